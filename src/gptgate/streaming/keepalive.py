"""Keep-alives for open streams: one ticker per interval for the whole process.

A stream registers a :class:`KeepAlive` while it is open and stamps ``last`` at each write. The
ticker wakes every half interval and writes the stream's keep-alive payload to each stream idle
for at least the interval, so an idle stream hears from the gateway every 1 to 1.5 intervals;
an open stream costs a set entry, not a timer handle and a callback of its own.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Writable(Protocol):
    async def write(self, data: bytes) -> None: ...


class KeepAlive:
    """One open stream: where to write, what, and when it last wrote."""

    __slots__ = ("last", "payload", "resp", "sent", "writing")

    def __init__(self, resp: Writable, payload: bytes) -> None:
        self.resp = resp
        self.payload = payload
        self.last = 0.0
        #: something (headers included) has been written
        self.sent = False
        self.writing: asyncio.Future[None] | None = None


class Ticker:
    """The streams of one event loop sharing one keep-alive interval."""

    __slots__ = ("_handle", "_interval", "_loop", "_streams", "time")

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self._loop = loop
        self._interval = interval
        self._streams: set[KeepAlive] = set()
        self._handle: asyncio.TimerHandle | None = None
        #: the loop's clock, which ``last`` is stamped by
        self.time = loop.time

    def __len__(self) -> int:
        return len(self._streams)

    def watch(self, resp: Writable, payload: bytes) -> KeepAlive:
        """A new stream's :class:`KeepAlive`, watched from now on (made and added in one call)."""
        stream = KeepAlive(resp, payload)
        stream.last = self.time()
        self._streams.add(stream)
        if self._handle is None:
            self._handle = self._loop.call_later(self._interval / 2, self._tick)
        return stream

    def discard(self, stream: KeepAlive) -> None:
        self._streams.discard(stream)

    def _tick(self) -> None:
        if not self._streams:
            self._handle = None  # started again by the next stream
            return
        now = self._loop.time()
        due = now - self._interval
        for stream in self._streams:
            if stream.last <= due and (stream.writing is None or stream.writing.done()):
                stream.last = now
                stream.sent = True
                stream.writing = asyncio.ensure_future(stream.resp.write(stream.payload))
                stream.writing.add_done_callback(_ignore_result)
        self._handle = self._loop.call_later(self._interval / 2, self._tick)


def _ignore_result(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()  # a write to a client that left: nothing to do


_tickers: dict[tuple[asyncio.AbstractEventLoop, float], Ticker] = {}
_running_loop = asyncio.get_running_loop
_last: Ticker | None = None  # the one a serving worker uses: found without hashing its key


def ticker_for(interval: float) -> Ticker:
    """The running loop's ticker for ``interval`` (made on first use)."""
    global _last
    loop = _running_loop()
    last = _last
    if last is not None and last._loop is loop and last._interval == interval:
        return last
    ticker = _tickers.get((loop, interval))
    if ticker is None:
        if len(_tickers) > 16:  # loops of finished tests: forget the idle ones
            for key in [k for k, t in _tickers.items() if not t or k[0].is_closed()]:
                del _tickers[key]
        ticker = _tickers[(loop, interval)] = Ticker(loop, interval)
    _last = ticker
    return ticker
