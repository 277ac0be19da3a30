"""One turn-serving path for every door: parse, decode, pin, prepare, open, then relay or fold.

A door supplies only what is its own, as a :class:`Turn` made from the parsed body: the
canonical request it decoded, the reasoning defaults it asks for, its stream encoder, its
non-stream reply and its extra headers. Everything else — the body limits, model resolution
and the pinned upstream (``prepare``), dispatch with its retries, the SSE relay, folding a
non-stream answer and turning a failed one into the door's error — happens here, once.

A WebSocket transport serves the same turns: it calls :func:`open_turn` per message and writes
the encoder's output as frames instead of an HTTP body.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from gptgate.canonical.failures import error_of_failed
from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext
from gptgate.dispatch.dispatcher import OpenStream
from gptgate.dispatch.prepare import prepare
from gptgate.gateway import Gateway
from gptgate.http import GATEWAY, body_at_hand, call_of, ignored_header, json_response, read_body
from gptgate.protocols.fields import parse_object
from gptgate.settings import Settings
from gptgate.streaming.relay import relay
from gptgate.streaming.stream import StreamEncoder
from gptgate.types import JSONObject


class Turn(Protocol):
    """What a door decoded from one request, and how it answers."""

    @property
    def req(self) -> CanonicalRequest: ...

    @property
    def default_effort(self) -> str | None:
        """The effort to ask for when the client named none (None: the upstream's default)."""

    @property
    def summary(self) -> str | None:
        """The reasoning summary to ask for (None: none)."""

    def encoder(self) -> StreamEncoder: ...

    def reply(self, response: JSONObject) -> JSONObject:
        """The non-stream answer, folded from the same events the stream would carry."""

    def headers(self) -> dict[str, str]:
        """The door's own response headers (a request id, a content type)."""


#: body, the HTTP request (headers, path, query), the settings -> the door's turn
TurnFactory = Callable[[JSONObject, web.Request, Settings], Turn]


def open_turn(gateway: Gateway, call: CallContext, turn: Turn) -> Awaitable[OpenStream]:
    """Resolve the model and the upstream, then dispatch: awaited, an open stream or the door's
    error. (The dispatcher's own awaitable, not a coroutine around it: every level between the
    guard and the upstream request costs each time the request is suspended and resumed.)"""
    prepare(turn.req, gateway.catalog, default_effort=turn.default_effort, summary=turn.summary, call=call)
    return gateway.dispatcher.open(turn.req, call)


def turn_handler(make: TurnFactory) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The route handler of a door whose turn needs only the request: the turn's path bound to
    the door's factory (by position: a partial with keywords copies them on every call), so an
    open stream holds no coroutine frame of the door's own."""
    return functools.partial(_serve, make)


def serve_turn(request: web.Request, make: TurnFactory) -> Awaitable[web.StreamResponse]:
    """Serve one turn of the door ``make`` builds (the coroutine itself: no level of its own)."""
    return _serve(make, request)


async def _serve(make: TurnFactory, request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    settings = gateway.settings
    body = body_at_hand(request, gateway)
    if body is None:
        body = await read_body(request, gateway)
    turn = make(parse_object(body), request, settings)
    stream = await open_turn(gateway, call_of(request), turn)
    req = turn.req
    headers = turn.headers()
    if req.ignored:  # ignored_header's, first
        headers = {**ignored_header(req), **headers}
    if req.stream:
        encoder = turn.encoder()
        # the request was sent: the turn (its canonical request, the items decoded from the
        # client's body) is not kept for the stream's lifetime; the encoder has what it needs
        del turn, req
        keepalive = settings.keepalive_seconds
        return await relay(request, stream, encoder, keepalive=keepalive, headers=headers)
    response = await stream.fold()
    if response.get("status") == "failed":
        raise error_of_failed(response)
    return json_response(turn.reply(response), headers)
