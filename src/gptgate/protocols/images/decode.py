"""Images API requests -> canonical turns with the upstream's ``image_generation`` tool.

``POST /v1/images/generations`` (JSON) and ``POST /v1/images/edits`` (multipart as
openai-python sends it: ``image`` or ``image[]`` files, ``mask``, text fields; or JSON with
``images: [{image_url}]`` and ``mask: {image_url}``) become one Responses turn per image: the
prompt (and the images to edit, as ``input_image`` data URLs) in a user message, the tool with
the options mapped, and ``tool_choice`` forcing it. The image model the client names
(``gpt-image-1``, ``dall-e-3``...) is the upstream's own business: the turn runs on the named
model when the gateway serves it, else on the gateway's default model.

Mapping: ``size`` (``auto`` and the GPT-image sizes pass; DALL-E sizes to the nearest one),
``quality`` (``standard`` → ``medium``, ``hd`` → ``high``), ``background``, ``output_format``,
``output_compression``, ``moderation`` pass as tool options; ``style`` and ``user`` are ignored
(reported); ``n`` (1-10) is that many turns; ``stream`` is refused.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Final

from gptgate.canonical import items
from gptgate.canonical.hosted import IMAGE_TOOL
from gptgate.canonical.request import CanonicalRequest
from gptgate.errors import RequestError, UnsupportedFeature
from gptgate.files.media import sniff_mime
from gptgate.protocols import checks as c
from gptgate.protocols import fields as f
from gptgate.types import JSONObject

MAX_N: Final = 10
MAX_PROMPT: Final = 32000
INSTRUCTIONS: Final = (
    "Create the image the user describes with the image_generation tool, then reply with one short sentence."
)
SIZES: Final = {
    "auto": "auto",
    "1024x1024": "1024x1024",
    "1536x1024": "1536x1024",
    "1024x1536": "1024x1536",
    "256x256": "1024x1024",
    "512x512": "1024x1024",
    "1792x1024": "1536x1024",
    "1024x1792": "1024x1536",
}
QUALITIES: Final = {
    "auto": "auto",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "standard": "medium",
    "hd": "high",
}
SPEC: Final[c.Spec] = {
    "n": c.ranged(1, MAX_N),
    "background": c.enum("auto", "transparent", "opaque"),
    "output_format": c.enum("png", "jpeg", "webp"),
    "output_compression": c.ranged(0, 100),
    "moderation": c.enum("auto", "low"),
    "response_format": c.enum("url", "b64_json"),
    "style": c.enum("vivid", "natural"),
    "user": c.STR,
    "input_fidelity": c.enum("low", "high"),
}
IGNORED: Final = ("style", "user", "input_fidelity", "partial_images")
KNOWN: Final = frozenset(
    {*SPEC, *IGNORED, "model", "prompt", "size", "quality", "stream", "image", "images", "mask"}
)


@dataclass(slots=True)
class ImageJob:
    """What the client asked for: the turn to run ``n`` times and how to answer."""

    model: str
    prompt: str
    n: int
    response_format: str
    tool: JSONObject
    images: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def turn(self, model: str) -> CanonicalRequest:
        """One canonical turn that makes one image (``model``: what the gateway runs it on)."""
        parts = [items.text_part("user", self.prompt), *(items.image_part(url) for url in self.images)]
        req = CanonicalRequest(
            model=model, requested_model=self.model, input=[items.message("user", parts)], origin="images"
        )
        req.instructions = INSTRUCTIONS
        req.tools = [dict(self.tool)]
        req.tool_choice = {"type": IMAGE_TOOL}
        req.stream = True
        req.ignored = list(self.ignored)
        return req


def decode(body: JSONObject, *, images: list[str] | None = None, mask: str | None = None) -> ImageJob:
    """A generation (``images`` None) or an edit (the images as data URLs, ``mask`` likewise)."""
    prompt = f.req_str(body, "prompt")
    if not prompt.strip() or len(prompt) > MAX_PROMPT:
        raise RequestError(f"'prompt' must be 1 to {MAX_PROMPT} characters.", param="prompt")
    c.check(body, SPEC)
    if f.opt_bool(body, "stream"):
        raise UnsupportedFeature(
            "Streaming image generation is not supported; leave 'stream' unset.", param="stream"
        )
    unknown = sorted(k for k in body if k not in KNOWN)
    if unknown:
        raise RequestError(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0])
    tool: JSONObject = {"type": IMAGE_TOOL}
    size = f.opt_str(body, "size")
    if size is not None:
        tool["size"] = _mapped(SIZES, size, "size")
    quality = f.opt_str(body, "quality")
    if quality is not None:
        tool["quality"] = _mapped(QUALITIES, quality, "quality")
    for name in ("background", "output_format", "output_compression", "moderation"):
        if body.get(name) is not None:
            tool[name] = body[name]
    if mask is not None:
        tool["input_image_mask"] = {"image_url": mask}
    return ImageJob(
        model=f.opt_str(body, "model") or "gpt-image-1",
        prompt=prompt,
        n=f.opt_int(body, "n") or 1,
        response_format=f.opt_str(body, "response_format") or "b64_json",
        tool=tool,
        images=list(images or ()),
        ignored=[k for k in IGNORED if body.get(k) is not None],
    )


def _mapped(table: dict[str, str], value: str, name: str) -> str:
    if value not in table:
        raise RequestError(
            f"Invalid value for '{name}': '{value}'. Supported: {', '.join(table)}.", param=name
        )
    return table[value]


def json_edit(body: JSONObject) -> ImageJob:
    """The JSON form of an edit: ``images: [{"image_url": ...}]``, ``mask: {"image_url": ...}``."""
    urls: list[str] = []
    for i, value in enumerate(f.opt_list(body, "images") or ()):
        image = f.as_obj(value, f"images[{i}]")
        if image.get("file_id") is not None:
            raise UnsupportedFeature(
                "File ids cannot be used here; send 'image_url'.", param=f"images[{i}].file_id"
            )
        urls.append(f.req_str(image, "image_url", f"images[{i}]."))
    if not urls:
        raise RequestError("Missing required parameter: 'images'.", param="images")
    mask_obj = f.opt_obj(body, "mask")
    mask = f.req_str(mask_obj, "image_url", "mask.") if mask_obj is not None else None
    return decode({k: v for k, v in body.items() if k not in ("images", "mask")}, images=urls, mask=mask)


def data_url(data: bytes, declared: str | None, field_name: str) -> str:
    """An uploaded file as a data URL; it must be a PNG, JPEG or WebP image."""
    mime = sniff_mime(data) or (declared or "")
    if mime not in ("image/png", "image/jpeg", "image/webp"):
        raise RequestError(f"'{field_name}' must be a PNG, JPEG or WebP image.", param=field_name)
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def form_value(name: str, value: str) -> Any:
    """A multipart text field as the JSON value it stands for (numbers for ``n``...)."""
    if name in ("n", "output_compression", "partial_images"):
        try:
            return int(value)
        except ValueError:
            raise RequestError(f"Invalid value for '{name}': expected an integer.", param=name) from None
    if name == "stream":
        return value.lower() == "true"
    return value
