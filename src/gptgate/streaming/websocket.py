"""The WebSocket writer beside the SSE relay: the same stream protocol, one text frame per event.

A WebSocket carries many turns, so this writes one turn's :class:`EventStream` and returns;
the socket stays open for the next. Each event becomes one text frame holding exactly the
payload an SSE ``data:`` line would carry (the official Responses WebSocket's framing), with
nothing else per event. Idle keep-alives are WebSocket pings, sent by the socket's heartbeat,
not by this writer. A client that leaves mid-turn makes a send fail (or cancels the turn's
task); either way the ``finally`` closes the upstream request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

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
    send = ws.send_frame
    try:
        async for batch in stream:
            if observe is not None:
                observe(batch)
            for frame in encoder.frames(batch):
                await send(frame, TEXT)
        for frame in encoder.finish_frames():
            await send(frame, TEXT)
    finally:
        await stream.aclose()


async def send_json_frame(ws: web.WebSocketResponse, payload: bytes) -> None:
    """One frame the gateway made itself (a warm-up reply, an error event)."""
    await ws.send_frame(payload, TEXT)
