"""``POST {prefix}/models/{model}:{method}`` for ``generateContent``, ``streamGenerateContent``
and ``countTokens`` (client-apis.md §5.1), under ``/v1beta`` and ``/v1``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from gptgate.canonical.failures import error_of_failed
from gptgate.canonical.tokens import count_request
from gptgate.dispatch.prepare import prepare
from gptgate.errors import NotFoundError, RequestError
from gptgate.gateway import Gateway
from gptgate.http import call_of, gateway_of, ignored_header, json_response, new_id, read_body
from gptgate.protocols.fields import parse_object
from gptgate.protocols.gemini.decode import Decoded, decode, decode_count
from gptgate.protocols.gemini.encode import GeminiStreamEncoder
from gptgate.protocols.gemini.response import generate_content_response
from gptgate.streaming.relay import relay

Method = Callable[[web.Request, str], Awaitable[web.StreamResponse]]
JSON_STREAM_HEADERS: Final = {"Content-Type": "application/json; charset=utf-8"}


async def model_action(request: web.Request) -> web.StreamResponse:
    """``{model}:{method}``: aiohttp's ``{target}`` matches the colon; the method picks the handler."""
    model, colon, method = request.match_info["target"].rpartition(":")
    if ":" in model or "%3a" in request.raw_path.partition("?")[0].lower():
        # a doubled (``:generateContent:generateContent``) or encoded (``%3A``) method suffix
        # names no model, as the public API answers
        raise NotFoundError(
            f"models/{request.match_info['target']} is not found for this API version.",
            code="model_not_found",
        )
    handler = METHODS.get(method) if colon and model else None
    if handler is None:
        name = method if colon else request.match_info["target"]
        raise NotFoundError(
            f"Method '{name}' is not found for models; supported: {', '.join(METHODS)}.",
            code="method_not_found",
        )
    return await handler(request, model.removeprefix("models/"))


async def generate_content(request: web.Request, model: str) -> web.StreamResponse:
    return await _generate(request, model, stream=False)


async def stream_generate_content(request: web.Request, model: str) -> web.StreamResponse:
    return await _generate(request, model, stream=True)


async def count_tokens(request: web.Request, model: str) -> web.StreamResponse:
    gw = gateway_of(request)
    gw.catalog.resolve(model)
    req = decode_count(parse_object(await read_body(request)), model)
    return json_response({"totalTokens": count_request(req)})


async def _generate(request: web.Request, model: str, *, stream: bool) -> web.StreamResponse:
    gw = gateway_of(request)
    sse = _sse(request) if stream else False
    decoded = decode(parse_object(await read_body(request)), model)
    req = decoded.request
    req.stream = stream
    prepare(
        req,
        gw.catalog,
        default_effort=gw.settings.default_effort,
        summary=_summary(gw, decoded),
        call=call_of(request),
    )
    upstream = await gw.dispatcher.open(req, call_of(request))
    response_id, _ = new_id("")
    headers = ignored_header(req)
    model_version = req.requested_model
    if stream:
        encoder = GeminiStreamEncoder(
            response_id=response_id,
            model=model_version,
            include_thoughts=decoded.include_thoughts,
            names=decoded.names,
            sse=sse,
        )
        if not sse:
            headers.update(JSON_STREAM_HEADERS)
        return await relay(
            request, upstream, encoder, keepalive=gw.settings.keepalive_seconds, headers=headers
        )
    response = await upstream.fold()
    if response.get("status") == "failed":
        raise error_of_failed(response)
    reply = generate_content_response(
        response,
        response_id=response_id,
        model=model_version,
        include_thoughts=decoded.include_thoughts,
        names=decoded.names,
    )
    return json_response(reply, headers)


def _sse(request: web.Request) -> bool:
    alt = request.query.get("alt", "json")
    if alt not in ("sse", "json"):
        raise RequestError(f"Invalid value at 'alt': '{alt}' (expected 'sse' or 'json').", param="alt")
    return alt == "sse"


def _summary(gw: Gateway, decoded: Decoded) -> str | None:
    """Ask the upstream for a reasoning summary only when the client wants to see thoughts."""
    if not decoded.include_thoughts:
        return None
    summary = gw.settings.reasoning_summary
    return summary if summary != "none" else "auto"


METHODS: Final[dict[str, Method]] = {
    "generateContent": generate_content,
    "streamGenerateContent": stream_generate_content,
    "countTokens": count_tokens,
}
