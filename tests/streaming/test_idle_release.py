"""A stream waiting on a silent upstream holds neither what it relayed nor the decoded request.

Structural checks (weak references to objects the test made), no timing: the stream is parked
on an ``asyncio.Event`` while the client has its first bytes.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gptgate.canonical.events import Event
from gptgate.http import GATEWAY
from gptgate.protocols import turn as turn_module
from gptgate.protocols.turn import serve_turn
from gptgate.settings import Settings
from gptgate.streaming.relay import relay
from gptgate.types import JSONObject


class Watched(Event):
    """An event a weak reference can follow (``Event`` itself has slots and no weakref)."""


class Encoder:
    keepalive = b": ka\n\n"

    def feed(self, events: list[Event]) -> bytes:
        return b"".join(b"data: " + e.type.encode() + b"\n\n" for e in events)

    def finish(self) -> bytes:
        return b""


class Parked:
    """Gives ``first``, then waits on ``gate`` before the terminal batch."""

    def __init__(self, first: list[Event], gate: asyncio.Event) -> None:
        self.first: list[Event] | None = first
        self.gate = gate
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[list[Event]]:
        first, self.first = self.first or [], None
        yield first
        del first
        await self.gate.wait()
        yield [Event("response.completed", {"type": "response.completed"})]

    async def aclose(self) -> None:
        self.closed = True


async def start(app: web.Application) -> TestClient[Any, Any]:
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_relay_keeps_no_batch_while_the_upstream_is_silent() -> None:
    gate = asyncio.Event()
    created = Watched("response.created", {"type": "response.created", "response": {"id": "resp_1"}})
    ref = weakref.ref(created)
    stream = Parked([created], gate)
    del created

    async def handler(request: web.Request) -> web.StreamResponse:
        return await relay(request, stream, Encoder(), keepalive=15.0)

    app = web.Application()
    app.router.add_post("/s", handler)
    client = await start(app)
    try:
        resp = await client.post("/s")
        assert await resp.content.readany() == b"data: response.created\n\n"
        gc.collect()
        assert ref() is None
        gate.set()
        assert await resp.content.read() == b"data: response.completed\n\n"
    finally:
        await client.close()
    assert stream.closed


class Request:
    """The parts of a canonical request ``serve_turn`` reads itself."""

    stream = True
    ignored: ClassVar[list[str]] = []


class Turn:
    made: ClassVar[list[weakref.ref[Any]]] = []

    default_effort = None
    summary = None

    def __init__(self, body: JSONObject, request: web.Request, settings: Settings) -> None:
        self.body = body
        self.req = Request()
        Turn.made += [weakref.ref(self), weakref.ref(self.req)]

    def encoder(self) -> Encoder:
        return Encoder()

    def reply(self, response: JSONObject) -> JSONObject:
        return response

    def headers(self) -> dict[str, str]:
        return {"x-door": "test"}


async def test_serve_turn_drops_the_turn_and_its_request_once_streaming(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = asyncio.Event()
    stream = Parked([Event("response.created", {"type": "response.created"})], gate)

    async def open_turn(gateway: Any, call: Any, turn: Any) -> Parked:
        return stream

    monkeypatch.setattr(turn_module, "open_turn", open_turn)
    app = web.Application()
    gateway = SimpleNamespace(settings=Settings.model_validate({}), pins={})
    app[GATEWAY] = cast(Any, gateway)

    async def handler(request: web.Request) -> web.StreamResponse:
        return await serve_turn(request, cast(Any, Turn))

    app.router.add_post("/v1/test", handler)
    client = await start(app)
    try:
        resp = await client.post("/v1/test", data=b'{"model": "m", "stream": true}')
        assert resp.status == 200
        assert resp.headers["x-door"] == "test"
        assert await resp.content.readany() == b"data: response.created\n\n"
        gc.collect()
        assert len(Turn.made) == 2
        assert [ref() for ref in Turn.made] == [None, None]  # the turn, its request (and body)
        gate.set()
        assert await resp.content.read() == b"data: response.completed\n\n"
    finally:
        await client.close()
