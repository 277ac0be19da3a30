"""``POST /v1/messages`` and ``POST /v1/messages/count_tokens`` (client-apis.md §4)."""

from __future__ import annotations

from aiohttp import web

from gptgate.canonical.failures import error_of_failed
from gptgate.canonical.tokens import count_request
from gptgate.dispatch.prepare import prepare
from gptgate.http import call_of, gateway_of, ignored_header, json_response, new_id, read_body
from gptgate.protocols.anthropic.decode import decode
from gptgate.protocols.anthropic.encode import AnthropicStreamEncoder
from gptgate.protocols.anthropic.response import message
from gptgate.protocols.fields import parse_object
from gptgate.streaming.relay import relay


async def messages(request: web.Request) -> web.StreamResponse:
    gw = gateway_of(request)
    settings = gw.settings
    decoded = decode(parse_object(await read_body(request)), request.headers)
    req = decoded.req
    shown = decoded.thinking == "shown" and settings.reasoning_summary != "none"
    prepare(
        req,
        gw.catalog,
        default_effort=settings.default_effort,
        summary=settings.reasoning_summary if shown else None,
        call=call_of(request),
    )
    stream = await gw.dispatcher.open(req, call_of(request))
    message_id, _ = new_id("msg_")
    request_id = "req_" + message_id[4:]
    headers = {**ignored_header(req), "request-id": request_id}
    if req.stream:
        encoder = AnthropicStreamEncoder(
            message_id=message_id,
            model=req.requested_model,
            names=decoded.names,
            thinking=decoded.thinking,
            request_id=request_id,
        )
        return await relay(request, stream, encoder, keepalive=settings.keepalive_seconds, headers=headers)
    response = await stream.fold()
    if response.get("status") == "failed":
        raise error_of_failed(response)
    reply = message(
        response,
        message_id=message_id,
        model=req.requested_model,
        names=decoded.names,
        thinking=decoded.thinking,
    )
    return json_response(reply, headers)


async def count_tokens(request: web.Request) -> web.Response:
    """Counted locally in the upstream's encoding; the model must be one this gateway serves."""
    gw = gateway_of(request)
    decoded = decode(parse_object(await read_body(request)), request.headers, count_only=True)
    gw.catalog.resolve(decoded.req.model)
    return json_response({"input_tokens": count_request(decoded.req)})
