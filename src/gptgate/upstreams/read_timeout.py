"""aiohttp's socket read timeout (``sock_read``) without a loop timer re-armed on every read.

aiohttp times ``sock_read`` with one loop timer per connection, cancelled and armed again on
every read from the socket: two uvloop calls, about 1.7 µs, per upstream read (two or three per
burst turn; one per event on a paced stream, the way the backends stream). Here each read only
stamps when the timeout now falls due, and one :class:`~gptgate.due.DueTimer` per connector (per
session) expires the connections whose silence outlasted their timeout through aiohttp's own
``_on_read_timeout`` (the same ``SocketTimeoutError`` in the same places). aiohttp still
decides when a read timeout runs (from the request, on each read, through a resumed read) and
when it stops (the body's end, a pause, a lost connection); only the timer changes.

This leans on ``ResponseHandler``'s ``_read_timeout``, ``_reschedule_timeout``,
``_drop_timeout`` and ``_on_read_timeout`` (stable across aiohttp 3.x); tests/upstreams/
test_read_timeout.py fails if a renamed one leaves the per-read timer in place.
"""

from __future__ import annotations

import asyncio

from aiohttp.client_proto import ResponseHandler

from gptgate.due import DueTimer


class SweptResponseHandler(ResponseHandler):
    """A connection whose read timeout is a due time in its connector's :class:`DueTimer`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeouts: DueTimer) -> None:
        super().__init__(loop)
        self._timeouts = timeouts
        #: the loop time the running read timeout falls due (0.0: none runs)
        self.due = 0.0

    def _reschedule_timeout(self) -> None:
        timeout = self._read_timeout
        if timeout:
            self.due = self._loop.time() + timeout
            self._timeouts.add(self)
        elif self.due:
            self._drop_timeout()

    def _drop_timeout(self) -> None:
        if self.due:
            self.due = 0.0
            self._timeouts.discard(self)
        super()._drop_timeout()  # nothing armed by this class; kept for aiohttp's own state

    def expire(self) -> None:
        """The upstream was silent for the whole read timeout: aiohttp's own failure."""
        self.due = 0.0
        self._on_read_timeout()
