"""The cyclic garbage collector while serving: timed young collections, not allocation-counted.

Almost nothing a request allocates forms a cycle (reference counting frees it), but CPython
starts a collection every few hundred net container allocations, and a serving process's young
generation is mostly the open requests' live state: at CPython's default (700, 10, 10) each
collection walked the open requests again (64 streams of 200 deltas: 16 % of a worker's CPU),
at (5000, 20, 10) still 8-10 %. So a serving worker collects on a clock instead: the young
generation once a second (a few milliseconds over everything allocated meanwhile), the middle one
every 10 s, the whole heap every minute; a high allocation threshold stays as a backstop for a
burst of cyclic garbage (an error storm's tracebacks) between two ticks. What exists when serving
starts lives as long as the process and is frozen out of every pass.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Final

#: the allocation-counted backstop: reached only by a burst far above a request's own churn
BACKSTOP: Final = (100_000, 50, 100)
TICK_S: Final = 1.0
MIDDLE_EVERY: Final = 10  # ticks
FULL_EVERY: Final = 60  # ticks


class TimedCollector:
    """Started once the server listens; stopped when it shuts down."""

    def __init__(self, tick: float = TICK_S) -> None:
        self._tick_s = tick
        self._ticks = 0
        self._handle: asyncio.TimerHandle | None = None
        self._previous: tuple[int, int, int] | None = None

    def start(self) -> None:
        gc.collect()
        gc.freeze()  # the startup heap: modules, settings, the gateway's long-lived objects
        self._previous = gc.get_threshold()
        gc.set_threshold(*BACKSTOP)
        self._handle = asyncio.get_running_loop().call_later(self._tick_s, self._tick)

    def _tick(self) -> None:
        self._ticks += 1
        if self._ticks % FULL_EVERY == 0:
            gc.collect(2)
        elif self._ticks % MIDDLE_EVERY == 0:
            gc.collect(1)
        else:
            gc.collect(0)
        self._handle = asyncio.get_running_loop().call_later(self._tick_s, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._previous is not None:
            gc.set_threshold(*self._previous)
            self._previous = None
