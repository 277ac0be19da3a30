"""``POST /v1/images/generations`` and ``POST /v1/images/edits``: the Images API door.

Each image is one turn with the upstream's ``image_generation`` tool (``decode.py``), opened and
folded through the same dispatch as every door, so leases, retries, limits and usage are the
usual ones. ``n`` images are ``n`` turns run side by side: the tool makes one image per call and
the upstream answers one turn per request. The first turn is the request's own call; each
further one is a call of its own (``<request id>-<i>``), admitted and closed like any other, so
limits and usage count every turn.

A turn on the Codex backend answers with an ``image_generation_call`` item carrying the bytes;
``b64_json`` returns them, ``url`` keeps them in the gateway's store (``files/generated.py``) and
returns its signed link. A turn on the web upstream shows its images as links in the text (the
web backend keeps them): those are returned as ``url`` outputs whatever was asked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Final

from aiohttp import BodyPartReader, web

from gptgate.canonical.failures import error_of_failed
from gptgate.canonical.hosted import GeneratedImage, ImageLink, generated_image
from gptgate.canonical.response import message_text, usage_of
from gptgate.dispatch.context import CallContext
from gptgate.dispatch.models import DEFAULT_TARGET
from gptgate.dispatch.prepare import prepare
from gptgate.errors import GatewayError, RequestError
from gptgate.files.generated import generated_of
from gptgate.gateway import Gateway
from gptgate.http import call_of, gateway_of, ignored_header, json_response, read_body
from gptgate.protocols.fields import parse_object
from gptgate.protocols.images.decode import ImageJob, data_url, decode, form_value, json_edit
from gptgate.types import JSONObject

MARKDOWN_IMAGE: Final = re.compile(r"!\[[^\]]*\]\((https?://[^)\s]+/files/[^)\s]+)\)")
#: multipart fields that are files (``image[]`` is openai-python's name for a list of images)
FILE_FIELDS: Final = frozenset({"image", "image[]", "mask"})


async def generations(request: web.Request) -> web.StreamResponse:
    return await serve_images(request, decode(parse_object(await read_body(request))))


async def edits(request: web.Request) -> web.StreamResponse:
    if request.content_type.startswith("multipart/"):
        job = await _multipart_job(request)
    else:
        job = json_edit(parse_object(await read_body(request)))
    return await serve_images(request, job)


async def _multipart_job(request: web.Request) -> ImageJob:
    fields: JSONObject = {}
    images: list[str] = []
    mask: str | None = None
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader) or not part.name:
            continue
        if part.name in FILE_FIELDS:
            url = data_url(bytes(await part.read()), part.headers.get("Content-Type"), part.name)
            if part.name == "mask":
                mask = url
            else:
                images.append(url)
        else:
            fields[part.name] = form_value(part.name, await part.text())
    if not images:
        raise RequestError("Missing required parameter: 'image'.", param="image")
    return decode(fields, images=images, mask=mask)


async def serve_images(request: web.Request, job: ImageJob) -> web.StreamResponse:
    gateway = gateway_of(request)
    call = call_of(request)
    model = _turn_model(gateway, job.model, call)
    calls = [call, *(_sub_call(call, i) for i in range(1, job.n))]
    try:
        folded = await asyncio.gather(*(_one_turn(gateway, c, job, model) for c in calls))
    finally:
        for sub in calls[1:]:
            await gateway.observers.call_closed(sub)
    store = generated_of(request)
    data: list[JSONObject] = []
    for response in folded:
        data.extend(_outputs(response, job.response_format, store.link if store is not None else None))
    return json_response(_body(job, folded, data), ignored_header(job.turn(model)))


def _turn_model(gateway: Gateway, name: str, call: CallContext) -> str:
    """The named model when the gateway serves it (a chat model), else the default model."""
    try:
        gateway.catalog.resolve(name, call.upstream)
    except GatewayError:
        return DEFAULT_TARGET
    return name


def _sub_call(call: CallContext, index: int) -> CallContext:
    """A call of its own for the ``index``-th image (same key, door and pin; nothing else)."""
    return dataclasses.replace(
        call,
        request_id=f"{call.request_id}-{index}",
        model=None,
        session=None,
        admitted=False,
        account=None,
        first_event_at=None,
        terminal=None,
        status=0,
        error=None,
    )


async def _one_turn(gateway: Gateway, call: CallContext, job: ImageJob, model: str) -> JSONObject:
    req = job.turn(model)
    try:
        prepare(req, gateway.catalog, default_effort=None, summary=None, call=call)
        stream = await gateway.dispatcher.open(req, call)
        response = await stream.fold()
    except GatewayError as exc:
        call.error, call.status = exc, exc.status
        raise
    if response.get("status") == "failed":
        raise error_of_failed(response)
    call.status = 200
    return response


def _outputs(response: JSONObject, response_format: str, link: ImageLink | None) -> list[JSONObject]:
    out: list[JSONObject] = []
    texts: list[str] = []
    for item in response.get("output") or ():
        image = generated_image(item)
        if image is not None:
            out.append(_output(image, response_format, link))
        elif item.get("type") == "message":
            texts.append(message_text(item))
    if not out:  # the web upstream: its images are links in the text
        out = [{"url": url} for text in texts for url in MARKDOWN_IMAGE.findall(text)]
    if not out:
        said = " ".join(t.strip() for t in texts if t.strip())[:500]
        raise RequestError(
            "The upstream made no image" + (f": {said}" if said else "."), code="image_generation_failed"
        )
    return out


def _output(image: GeneratedImage, response_format: str, link: ImageLink | None) -> JSONObject:
    out: JSONObject = {}
    if response_format == "url":
        out["url"] = link(image) if link is not None else image.data_url
    else:
        out["b64_json"] = image.b64
    if image.revised_prompt:
        out["revised_prompt"] = image.revised_prompt
    return out


def _body(job: ImageJob, folded: list[JSONObject], data: list[JSONObject]) -> JSONObject:
    first: JSONObject = next(
        (i for r in folded for i in r.get("output") or () if i.get("type") == "image_generation_call"), {}
    )
    body: JSONObject = {"created": int(min((r.get("created_at") or 0) for r in folded) or 0), "data": data}
    for name in ("background", "output_format", "quality", "size"):
        value = first.get(name) or job.tool.get(name)
        if value is not None:
            body[name] = value
    usages = [usage_of(r) for r in folded]
    input_tokens = sum(u.input_tokens for u in usages)
    output_tokens = sum(u.output_tokens for u in usages)
    body["usage"] = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"text_tokens": input_tokens, "image_tokens": 0},
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }
    return body
