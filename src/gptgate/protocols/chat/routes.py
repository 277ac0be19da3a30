"""``POST /v1/chat/completions``."""

from __future__ import annotations

from aiohttp import web

from gptgate.canonical.failures import error_of_failed
from gptgate.dispatch.prepare import prepare
from gptgate.http import call_of, gateway_of, ignored_header, json_response, new_id, read_body
from gptgate.protocols.chat.decode import decode, include_usage
from gptgate.protocols.chat.encode import ChatStreamEncoder
from gptgate.protocols.chat.response import completion
from gptgate.protocols.fields import parse_object
from gptgate.streaming.relay import relay


async def chat_completions(request: web.Request) -> web.StreamResponse:
    gw = gateway_of(request)
    settings = gw.settings
    body = parse_object(await read_body(request))
    req = decode(body)
    summary = None if settings.reasoning_output == "none" else settings.reasoning_summary
    prepare(req, gw.catalog, default_effort=settings.default_effort, summary=summary, call=call_of(request))
    stream = await gw.dispatcher.open(req, call_of(request))
    chunk_id, created = new_id("chatcmpl-")
    headers = ignored_header(req)
    if req.stream:
        encoder = ChatStreamEncoder(
            chunk_id=chunk_id,
            created=created,
            model=req.requested_model,
            include_usage=include_usage(body),
            reasoning=settings.reasoning_output,
        )
        return await relay(request, stream, encoder, keepalive=settings.keepalive_seconds, headers=headers)
    response = await stream.fold()
    if response.get("status") == "failed":
        raise error_of_failed(response)
    reply = completion(
        response,
        completion_id=chunk_id,
        created=created,
        model=req.requested_model,
        reasoning=settings.reasoning_output,
    )
    return json_response(reply, headers)
