"""The one place a stream is written to a client.

Each batch of canonical events (everything one upstream read completed) becomes one write, so
a burst costs one syscall, not one per event. While the upstream is silent a keep-alive is sent
every ``interval`` seconds by a timer (no task per stream). A client that disconnects cancels
the handler (aiohttp ``handler_cancellation``), and the ``finally`` closes the upstream request.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from gptgate.streaming.stream import EventStream, StreamEncoder

log = logging.getLogger("gptgate.relay")

SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


class _KeepAlive:
    __slots__ = ("_handle", "_interval", "_loop", "_payload", "_resp", "_task", "last")

    def __init__(self, resp: web.StreamResponse, payload: bytes, interval: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._resp = resp
        self._payload = payload
        self._interval = interval
        self._task: asyncio.Future[None] | None = None
        self.last = self._loop.time()
        self._handle = self._loop.call_later(interval, self._fire)

    def _fire(self) -> None:
        idle = self._loop.time() - self.last
        if idle >= self._interval and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._resp.write(self._payload))
            self._task.add_done_callback(_ignore_result)
            self.last = self._loop.time()
            idle = 0.0
        self._handle = self._loop.call_later(self._interval - idle, self._fire)

    def cancel(self) -> None:
        self._handle.cancel()


def _ignore_result(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()  # a write to a client that left: nothing to do


async def relay(
    request: web.Request,
    stream: EventStream,
    encoder: StreamEncoder,
    *,
    keepalive: float,
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    resp = web.StreamResponse(status=200, headers={**SSE_HEADERS, **(headers or {})})
    try:
        await resp.prepare(request)
        timer = _KeepAlive(resp, encoder.keepalive, keepalive)
        loop_time = asyncio.get_running_loop().time
        try:
            async for batch in stream:
                data = encoder.feed(batch)
                if data:
                    await resp.write(data)
                    timer.last = loop_time()
            tail = encoder.finish()
            if tail:
                await resp.write(tail)
        finally:
            timer.cancel()
        await resp.write_eof()
    except (ConnectionResetError, ConnectionError) as exc:
        log.debug("client went away: %s", exc.__class__.__name__)
    finally:
        await stream.aclose()
    return resp
