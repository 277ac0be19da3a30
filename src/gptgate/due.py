"""Things that fall due at a loop time, with one timer for all of them instead of one each.

A loop timer costs a ``call_at`` and a ``cancel`` (about 1.7 µs together on uvloop); a deadline
that is started and stopped on every turn, or pushed back on every read, would pay that each
time. Here adding an item, moving its due time later and taking it out are set operations; the
one timer is armed for the earliest due time it has seen, and when it fires it expires what is
due and is armed again for the earliest left. Under steady traffic it fires about once per
timeout, not once per item. The first-event deadlines (``dispatch/deadlines.py``) and the
upstream read timeout (``upstreams/read_timeout.py``) are its two users.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Due(Protocol):
    #: the loop time the item falls due; it may move later while the item is in a timer
    due: float

    def expire(self) -> None:
        """Called once when due (the timer has already taken the item out)."""


class DueTimer:
    """The items of one loop that are waiting to fall due, and the one timer for all."""

    __slots__ = ("_armed_at", "_handle", "_items", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._items: set[Due] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at = 0.0

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: Due) -> None:
        """Wait for ``item`` (again: after its ``due`` moved, adding it is all it takes)."""
        self._items.add(item)
        if self._handle is None or item.due < self._armed_at:
            self._arm(item.due)

    def discard(self, item: Due) -> None:
        self._items.discard(item)

    def close(self) -> None:
        """Forget every item without expiring it (its owner is going away)."""
        self._items.clear()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _arm(self, at: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._armed_at = at
        self._handle = self.loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self._handle = None
        now = self.loop.time()
        for item in [i for i in self._items if i.due <= now]:
            self._items.discard(item)
            item.expire()
        if self._items:
            self._arm(min(i.due for i in self._items))
