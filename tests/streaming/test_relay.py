"""The SSE relay: what reaches the client's socket, write by write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gptgate.canonical.events import Event
from gptgate.streaming import keepalive
from gptgate.streaming.relay import relay


class Encoder:
    """A minimal encoder: each event's type as one SSE data line."""

    keepalive = b": ka\n\n"

    def __init__(self) -> None:
        self.finished = False

    def feed(self, events: list[Event]) -> bytes:
        out = b"".join(b"data: " + e.type.encode() + b"\n\n" for e in events if e.type != "silent")
        if any(e.type == "response.completed" for e in events):
            self.finished = True
        return out

    def finish(self) -> bytes:
        return b"" if self.finished else b"data: ended-early\n\n"


class Stream:
    def __init__(self, batches: list[list[str]], gate: asyncio.Event | None = None) -> None:
        self.batches = batches
        self.gate = gate
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[list[Event]]:
        for i, batch in enumerate(self.batches):
            if i == 1 and self.gate is not None:
                await self.gate.wait()
            yield [Event(t, {"type": t}) for t in batch]

    async def aclose(self) -> None:
        self.closed = True


class Counting:
    """The connection's transport, recording each write the server makes."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self._real.write(data)

    def writelines(self, chunks: Any) -> None:
        data = b"".join(chunks)
        self.writes.append(data)
        self._real.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


async def serve(stream: Stream, interval: float = 15.0) -> tuple[TestClient[Any, Any], list[Counting]]:
    seen: list[Counting] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        protocol = request.protocol
        counting = Counting(protocol.transport)
        protocol.transport = counting  # type: ignore[assignment]
        seen.append(counting)
        try:
            return await relay(request, stream, Encoder(), keepalive=interval)
        finally:
            protocol.transport = counting._real

    app = web.Application()
    app.router.add_post("/s", handler)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client, seen


BURST = [["response.created", "response.output_text.delta", "response.completed"]]


async def test_a_burst_is_one_write_headers_body_and_end() -> None:
    stream = Stream(BURST)
    client, seen = await serve(stream)
    try:
        resp = await client.post("/s")
        body = await resp.read()
    finally:
        await client.close()
    assert (
        body == b"data: response.created\n\ndata: response.output_text.delta\n\ndata: response.completed\n\n"
    )
    assert resp.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert resp.headers["X-Accel-Buffering"] == "no"
    [write] = seen[0].writes
    assert write.startswith(b"HTTP/1.1 200 OK\r\n")
    assert write.endswith(b"\r\n\r\n54\r\n" + body + b"\r\n0\r\n\r\n")  # 0x54: 84 bytes
    assert stream.closed


async def test_batches_after_the_terminal_one_are_drained_not_written() -> None:
    stream = Stream([*BURST, ["late.title"]])
    client, seen = await serve(stream)
    try:
        body = await (await client.post("/s")).read()
    finally:
        await client.close()
    assert b"late.title" not in body
    assert len(seen[0].writes) == 1
    assert stream.closed


async def test_a_stream_without_a_terminal_event_ends_with_the_encoders_tail() -> None:
    stream = Stream([["response.created"], ["response.output_text.delta"]])
    client, seen = await serve(stream)
    try:
        body = await (await client.post("/s")).read()
    finally:
        await client.close()
    assert body == b"data: response.created\n\ndata: response.output_text.delta\n\ndata: ended-early\n\n"
    writes = seen[0].writes
    assert len(writes) == 3  # headers + first batch, second batch, tail + end
    assert writes[-1] == b"13\r\ndata: ended-early\n\n\r\n0\r\n\r\n"


async def test_headers_go_out_at_once_when_the_first_batch_shows_nothing() -> None:
    gate = asyncio.Event()
    stream = Stream([["silent"], ["response.completed"]], gate)
    client, _ = await serve(stream)
    try:
        resp = await client.post("/s")  # returns once the headers arrived: the stream is held
        assert resp.status == 200
        gate.set()
        assert await resp.read() == b"data: response.completed\n\n"
    finally:
        await client.close()


async def test_an_idle_stream_hears_keepalives_until_the_upstream_speaks() -> None:
    gate = asyncio.Event()
    stream = Stream([["response.created"], ["response.completed"]], gate)
    client, _ = await serve(stream, interval=0.02)
    try:
        resp = await client.post("/s")
        first = await resp.content.readuntil(b"\n\n")
        assert first == b"data: response.created\n\n"
        assert await resp.content.readuntil(b"\n\n") == b": ka\n\n"  # bounded by the client's timeout
        gate.set()
        rest = await resp.read()
    finally:
        await client.close()
    assert rest.endswith(b"data: response.completed\n\n")
    assert set(rest.split(b"\n\n")[:-2]) <= {b": ka"}
    assert all(len(t) == 0 for t in keepalive._tickers.values())  # no stream left registered


async def test_a_client_that_leaves_closes_the_upstream_stream() -> None:
    gate = asyncio.Event()
    stream = Stream([["response.created"], ["response.completed"]], gate)
    client, _ = await serve(stream)
    try:
        resp = await client.post("/s")
        await resp.content.readuntil(b"\n\n")
        resp.close()
        for _ in range(100):
            if stream.closed:
                break
            await asyncio.sleep(0.01)
    finally:
        await client.close()
    assert stream.closed
