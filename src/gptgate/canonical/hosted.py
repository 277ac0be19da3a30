"""The upstream's hosted tools in canonical terms: generated images and web-search citations.

The Codex backend runs two tools on its own side (codex-backend.md §2.3, §3.2): ``image_generation``
answers with an ``image_generation_call`` item whose ``result`` is the image in base64, and
``web_search`` with a ``web_search_call`` item (``action.query``) followed by a message whose
``output_text`` parts carry ``url_citation`` annotations (character offsets into that part's text).
Every door that shows these reads them through the helpers here, so "what mime type is this
image" or "where in the answer does a citation point" is decided once:

* :func:`generated_image` — the image of an item (base64, mime type, revised prompt);
* :func:`citations` — a message's citations with offsets into the message's whole text;
* :func:`search_query` — what a search call looked for;
* :func:`utf8_offsets` — character offsets as byte offsets (Gemini counts bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from gptgate.types import JSONObject

IMAGE_CALL: Final = "image_generation_call"
SEARCH_CALL: Final = "web_search_call"
IMAGE_TOOL: Final = "image_generation"
SEARCH_TOOL: Final = "web_search"
MIME_BY_FORMAT: Final = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}
#: the first base64 characters of each format's magic bytes
_B64_MAGIC: Final = (
    ("iVBORw0KGgo", "image/png"),
    ("/9j/", "image/jpeg"),
    ("UklGR", "image/webp"),
    ("R0lGOD", "image/gif"),
)


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    b64: str
    mime: str
    revised_prompt: str | None = None

    @property
    def data_url(self) -> str:
        return f"data:{self.mime};base64,{self.b64}"


#: what a door shows a generated image as, when it shows a URL (a gateway link, else a data URL)
ImageLink = Callable[[GeneratedImage], str]


def data_url_link(image: GeneratedImage) -> str:
    return image.data_url


def image_mime(b64: str, output_format: object = None) -> str:
    """The image's type from its first bytes, else from the item's ``output_format``, else PNG
    (what the tool makes unless asked otherwise)."""
    for magic, mime in _B64_MAGIC:
        if b64.startswith(magic):
            return mime
    return MIME_BY_FORMAT.get(str(output_format or "png").lower(), "image/png")


def generated_image(item: JSONObject) -> GeneratedImage | None:
    """The image an ``image_generation_call`` item carries (None: another item, or no image yet)."""
    if item.get("type") != IMAGE_CALL:
        return None
    result = item.get("result")
    if not isinstance(result, str) or not result:
        return None
    prompt = item.get("revised_prompt")
    return GeneratedImage(
        result, image_mime(result, item.get("output_format")), prompt if isinstance(prompt, str) else None
    )


def search_query(item: JSONObject) -> str:
    """The query of a ``web_search_call`` (``action.query``, else the first of ``action.queries``)."""
    action = item.get("action")
    if not isinstance(action, dict):
        return ""
    query = action.get("query")
    if isinstance(query, str):
        return query
    queries = action.get("queries")
    return str(queries[0]) if isinstance(queries, list) and queries else ""


def search_sources(item: JSONObject) -> list[JSONObject]:
    """The pages a search call read, when the upstream listed them (``action.sources``)."""
    action = item.get("action")
    sources = action.get("sources") if isinstance(action, dict) else None
    return [s for s in sources if isinstance(s, dict) and s.get("url")] if isinstance(sources, list) else []


def citation(annotation: JSONObject, offset: int = 0) -> JSONObject | None:
    """A ``url_citation`` annotation with its offsets moved by ``offset`` (None: another kind)."""
    if annotation.get("type") != "url_citation" or not annotation.get("url"):
        return None
    return {
        "type": "url_citation",
        "start_index": int(annotation.get("start_index") or 0) + offset,
        "end_index": int(annotation.get("end_index") or 0) + offset,
        "url": str(annotation["url"]),
        "title": str(annotation.get("title") or ""),
    }


def citations(item: JSONObject) -> list[JSONObject]:
    """A message item's ``url_citation`` annotations, offsets counted over the whole message
    text (the ``output_text`` parts joined, as :func:`~gptgate.canonical.response.message_text`)."""
    out: list[JSONObject] = []
    offset = 0
    for part in item.get("content") or ():
        if part.get("type") != "output_text":
            continue
        if annotations := part.get("annotations"):  # most parts cite nothing: no generators
            found = (citation(a, offset) for a in annotations if isinstance(a, dict))
            out.extend(c for c in found if c is not None)
        offset += len(part.get("text") or "")
    return out


def utf8_offsets(text: str, start: int, end: int) -> tuple[int, int]:
    """Character offsets into ``text`` as UTF-8 byte offsets."""
    return len(text[:start].encode()), len(text[:end].encode())
