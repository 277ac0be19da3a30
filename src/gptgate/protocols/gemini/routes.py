"""``POST {prefix}/models/{model}:{method}`` for ``generateContent``, ``streamGenerateContent``
and ``countTokens`` (client-apis.md §5.1), under ``/v1beta`` and ``/v1``."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from gptgate.canonical.tokens import count_request
from gptgate.errors import NotFoundError, RequestError
from gptgate.http import gateway_of, json_response, new_id, read_body
from gptgate.protocols.fields import parse_object
from gptgate.protocols.gemini.decode import Decoded, decode, decode_count
from gptgate.protocols.gemini.encode import GeminiStreamEncoder
from gptgate.protocols.gemini.response import generate_content_response
from gptgate.protocols.turn import serve_turn
from gptgate.settings import Settings
from gptgate.streaming.stream import StreamEncoder
from gptgate.types import JSONObject

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


class GenerateTurn:
    """``generateContent`` (``stream`` False) or ``streamGenerateContent`` (SSE with ``alt=sse``,
    else one JSON array written as it grows)."""

    def __init__(
        self, body: JSONObject, request: web.Request, settings: Settings, *, model: str, stream: bool
    ) -> None:
        self._sse = _sse(request) if stream else False
        self._decoded = decode(body, model)
        self.req = self._decoded.request
        self.req.stream = stream
        self.default_effort = settings.default_effort
        self.summary = _summary(settings, self._decoded)
        self._id, _ = new_id("")

    def encoder(self) -> StreamEncoder:
        d = self._decoded
        return GeminiStreamEncoder(
            response_id=self._id,
            model=self.req.requested_model,
            include_thoughts=d.include_thoughts,
            names=d.names,
            sse=self._sse,
        )

    def reply(self, response: JSONObject) -> JSONObject:
        d = self._decoded
        return generate_content_response(
            response,
            response_id=self._id,
            model=self.req.requested_model,
            include_thoughts=d.include_thoughts,
            names=d.names,
        )

    def headers(self) -> dict[str, str]:
        return dict(JSON_STREAM_HEADERS) if self.req.stream and not self._sse else {}


async def _generate(request: web.Request, model: str, *, stream: bool) -> web.StreamResponse:
    return await serve_turn(request, functools.partial(GenerateTurn, model=model, stream=stream))


def _sse(request: web.Request) -> bool:
    alt = request.query.get("alt", "json")
    if alt not in ("sse", "json"):
        raise RequestError(f"Invalid value at 'alt': '{alt}' (expected 'sse' or 'json').", param="alt")
    return alt == "sse"


def _summary(settings: Settings, decoded: Decoded) -> str | None:
    """Ask the upstream for a reasoning summary only when the client wants to see thoughts."""
    if not decoded.include_thoughts:
        return None
    summary = settings.reasoning_summary
    return summary if summary != "none" else "auto"


METHODS: Final[dict[str, Method]] = {
    "generateContent": generate_content,
    "streamGenerateContent": stream_generate_content,
    "countTokens": count_tokens,
}
