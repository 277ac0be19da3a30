"""aiohttp's socket read timeout (``sock_read``) without a loop timer re-armed on every read.

aiohttp times ``sock_read`` with one loop timer per connection, cancelled and armed again on
every read from the socket: two uvloop calls, about 1.7 µs, per upstream read (two or three per
burst turn; one per event on a paced stream, the way the backends stream). Here each read only
stamps when the timeout now falls due, and one timer per connector (per session), armed for the
earliest stamp it knows, expires the connections whose silence outlasted their timeout through aiohttp's
own ``_on_read_timeout`` (the same ``SocketTimeoutError`` in the same places). aiohttp still
decides when a read timeout runs (from the request, on each read, through a resumed read) and
when it stops (the body's end, a pause, a lost connection); only the timer changes.

This leans on ``ResponseHandler``'s ``_read_timeout``, ``_reschedule_timeout``,
``_drop_timeout`` and ``_on_read_timeout`` (stable across aiohttp 3.x); tests/upstreams/
test_read_timeout.py fails if a renamed one leaves the per-read timer in place.
"""

from __future__ import annotations

import asyncio

from aiohttp.client_proto import ResponseHandler


class SweptResponseHandler(ResponseHandler):
    """A connection whose read timeout is a due time kept by its connector's :class:`Sweeper`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sweeper: Sweeper) -> None:
        super().__init__(loop)
        self._sweeper = sweeper
        #: the loop time the running read timeout falls due (0.0: none runs)
        self._due = 0.0

    def _reschedule_timeout(self) -> None:
        timeout = self._read_timeout
        if timeout:
            self._due = self._loop.time() + timeout
            self._sweeper.add(self)
        elif self._due:
            self._drop_timeout()

    def _drop_timeout(self) -> None:
        if self._due:
            self._due = 0.0
            self._sweeper.discard(self)
        super()._drop_timeout()  # nothing armed by this class; kept for aiohttp's own state


class Sweeper:
    """The connections of one connector with a read timeout running, and one timer for all."""

    __slots__ = ("_armed_at", "_handle", "_loop", "_timing")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._timing: set[SweptResponseHandler] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at = 0.0

    def __len__(self) -> int:
        return len(self._timing)

    def add(self, handler: SweptResponseHandler) -> None:
        self._timing.add(handler)
        if self._handle is None or handler._due < self._armed_at:
            self._arm(handler._due)

    def discard(self, handler: SweptResponseHandler) -> None:
        self._timing.discard(handler)

    def _arm(self, at: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._armed_at = at
        self._handle = self._loop.call_at(at, self._sweep)

    def _sweep(self) -> None:
        self._handle = None
        now = self._loop.time()
        expired = [h for h in self._timing if h._due <= now]
        for handler in expired:
            handler._due = 0.0
            self._timing.discard(handler)
            handler._on_read_timeout()
        if self._timing:
            self._arm(min(h._due for h in self._timing))

    def close(self) -> None:
        """The connector closes: no more sweeps."""
        self._timing.clear()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
