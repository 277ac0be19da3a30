"""The WebSocket writer beside the SSE relay: the same stream protocol, one text frame per event.

A WebSocket carries many turns, so this writes one turn's :class:`EventStream` and returns;
the socket stays open for the next. Each event becomes one text frame holding exactly the
payload an SSE ``data:`` line would carry (the official Responses WebSocket's framing), with
nothing else per event. A batch (everything one upstream read completed) goes out in one write
to the socket, however many frames it holds. Idle keep-alives are WebSocket pings, sent by the socket's heartbeat,
not by this writer. A client that leaves mid-turn makes a send fail (or cancels the turn's
task); either way the ``finally`` closes the upstream request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from gptgate.canonical.events import Event
from gptgate.streaming.stream import EventStream

TEXT = WSMsgType.TEXT


class FrameEncoder(Protocol):
    """Canonical events -> one frame payload per event (no SSE framing)."""

    def frames(self, events: list[Event]) -> list[bytes]: ...

    def finish_frames(self) -> list[bytes]:
        """Frames owed when the stream ended (none once a terminal event went out)."""
        ...


#: called with each batch before it is written (one call per upstream read, not per event)
Observer = Callable[[list[Event]], None]


async def send_stream(
    ws: web.WebSocketResponse,
    stream: EventStream,
    encoder: FrameEncoder,
    observe: Observer | None = None,
) -> None:
    """Write one turn's events as text frames, then close the stream (always)."""
    try:
        async for batch in stream:
            if observe is not None:
                observe(batch)
            await send_frames(ws, encoder.frames(batch))
        await send_frames(ws, encoder.finish_frames())
    finally:
        await stream.aclose()


class _Gather:
    """Stands in for the socket's transport while one batch is framed: aiohttp frames each
    message (header, length, no mask from a server) and writes it here; the batch then goes to
    the real transport in one write instead of one syscall per event."""

    __slots__ = ("parts", "real")

    def __init__(self, real: Any) -> None:
        self.real = real
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(data)

    def is_closing(self) -> bool:
        return bool(self.real.is_closing())


async def send_frames(ws: web.WebSocketResponse, frames: list[bytes]) -> None:
    """Text frames, in order, in one write. aiohttp's writer frames them (so flow control and
    the closing checks stay its own); only its transport is borrowed for the batch."""
    writer = ws._writer  # aiohttp's frame writer (stable across its 3.x releases)
    if len(frames) < 2 or writer is None:
        for frame in frames:
            await ws.send_frame(frame, TEXT)
        return
    real = writer.transport
    gather = _Gather(real)
    writer.transport = gather  # type: ignore[assignment]
    try:
        for frame in frames:
            await ws.send_frame(frame, TEXT)
    finally:
        writer.transport = real
        if gather.parts and not real.is_closing():
            real.write(b"".join(gather.parts))


async def send_json_frame(ws: web.WebSocketResponse, payload: bytes) -> None:
    """One frame the gateway made itself (a warm-up reply, an error event)."""
    await ws.send_frame(payload, TEXT)
