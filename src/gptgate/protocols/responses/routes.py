"""``POST /v1/responses``."""

from __future__ import annotations

from aiohttp import web

from gptgate.canonical.failures import error_of_failed
from gptgate.dispatch.prepare import prepare
from gptgate.http import call_of, gateway_of, ignored_header, json_response, read_body
from gptgate.protocols.fields import parse_object
from gptgate.protocols.responses.decode import decode
from gptgate.protocols.responses.encode import ResponsesStreamEncoder
from gptgate.streaming.relay import relay


async def responses(request: web.Request) -> web.StreamResponse:
    gw = gateway_of(request)
    body = parse_object(await read_body(request))
    req = decode(body, request.headers)
    prepare(req, gw.catalog, default_effort=None, summary=None, call=call_of(request))
    stream = await gw.dispatcher.open(req, call_of(request))
    headers = ignored_header(req)
    if req.stream:
        encoder = ResponsesStreamEncoder()
        return await relay(request, stream, encoder, keepalive=gw.settings.keepalive_seconds, headers=headers)
    response = await stream.fold()
    if response.get("status") == "failed":
        raise error_of_failed(response)
    return json_response(response, headers)
