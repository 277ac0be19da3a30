"""The WebSocket writer: one turn's events as text frames, a batch in one socket write."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from gptgate.canonical.events import Event
from gptgate.streaming.websocket import send_stream


class Frames:
    def frames(self, events: list[Event]) -> list[bytes]:
        return [b'{"type":"' + e.type.encode() + b'"}' for e in events]

    def finish_frames(self) -> list[bytes]:
        return [b'{"type":"tail"}']


class Stream:
    def __init__(self, batches: list[list[str]]) -> None:
        self.batches = batches
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[list[Event]]:
        for batch in self.batches:
            yield [Event(t, {"type": t}) for t in batch]

    async def aclose(self) -> None:
        self.closed = True


class Counting:
    def __init__(self, real: Any) -> None:
        self.real = real
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.real.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


async def test_a_batch_of_frames_is_one_write_and_arrives_frame_by_frame() -> None:
    stream = Stream([["response.created", "response.output_text.delta", "response.completed"], ["late"]])
    seen: list[Counting] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        writer = ws._writer
        assert writer is not None
        counting = Counting(writer.transport)
        writer.transport = counting  # type: ignore[assignment]
        seen.append(counting)
        await send_stream(ws, stream, Frames())
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        ws = await client.ws_connect("/ws")
        got = [msg.data async for msg in ws if msg.type == WSMsgType.TEXT]
    finally:
        await client.close()
    assert got == [
        '{"type":"response.created"}',
        '{"type":"response.output_text.delta"}',
        '{"type":"response.completed"}',
        '{"type":"late"}',
        '{"type":"tail"}',
    ]
    first = seen[0].writes[0]
    assert first == (
        b'\x81\x1b{"type":"response.created"}'
        b'\x81\x25{"type":"response.output_text.delta"}'
        b'\x81\x1d{"type":"response.completed"}'
    )  # three frames (FIN + text, unmasked, length) in one write
    assert seen[0].writes[1:3] == [b'\x81\x0f{"type":"late"}', b'\x81\x0f{"type":"tail"}']
    assert stream.closed
