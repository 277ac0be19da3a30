"""This process's leases in the Redis state, written behind so a request pays no round trip.

``lease()``/``unlease()`` only change the local counts and arm a timer; within ``every`` seconds
one sync sends the process's counts to Redis and reads back the totals of every live process.
A sync sends absolute counts, not deltas, so it is idempotent: a process reaped while alive
(frozen past its lease TTL) puts its full counts back on its next sync. ``in_flight()`` is the
last totals read with this process's own share replaced by its current counts, so within a
process it is exact and across processes about ``every`` behind: totals older than ``every``
start a sync in the background, totals older than ``WAIT_AFTER * every`` (the process was idle)
are synced first, one round trip shared by concurrent callers.

A sync that fails (Redis unreachable) is logged once; in the meantime ``in_flight()`` answers
from what it has, and syncs resume with the next change or heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

log = logging.getLogger("gptgate.state")

#: Sends this process's counts, returns the totals of every live process.
Sync = Callable[[dict[str, int]], Awaitable[dict[str, int]]]

#: ``in_flight()`` starts a sync when the totals are older than ``every``, and waits for it when
#: they are older than this many times ``every`` (after an idle spell).
WAIT_AFTER = 5
#: After a failed sync, ``in_flight()`` neither starts nor waits for one for this long.
RETRY_AFTER = 1.0


class Leases:
    def __init__(self, sync: Sync, every: float) -> None:
        self._sync = sync
        self._every = every
        self.own: dict[str, int] = {}
        self._sent: dict[str, int] = {}
        self._totals: dict[str, int] = {}
        self._synced_at = -math.inf
        self._retry_at = -math.inf
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self.synced = False  # ever: then this process is registered in Redis

    def lease(self, account: str) -> None:
        self.own[account] = self.own.get(account, 0) + 1
        if self._timer is None and self._task is None:
            self._arm()

    def unlease(self, account: str) -> None:
        n = self.own.get(account, 0)
        if n <= 0:
            return
        if n == 1:
            del self.own[account]
        else:
            self.own[account] = n - 1
        if self._timer is None and self._task is None:
            self._arm()

    async def in_flight(self) -> dict[str, int]:
        now = time.monotonic()
        age = now - self._synced_at
        if age > self._every and now >= self._retry_at:
            task = self.sync()
            if age > WAIT_AFTER * self._every:
                with contextlib.suppress(RedisError, OSError):
                    await asyncio.shield(task)
        totals = dict(self._totals)
        if self.own != self._sent:
            for account in self.own.keys() | self._sent.keys():
                n = totals.get(account, 0) - self._sent.get(account, 0) + self.own.get(account, 0)
                if n > 0:
                    totals[account] = n
                else:
                    totals.pop(account, None)
        return totals

    def sync(self) -> asyncio.Task[None]:
        """Sync now (or join the sync under way)."""
        if self._task is None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._task = asyncio.get_running_loop().create_task(self._run())
            self._task.add_done_callback(_retrieve)
        return self._task

    async def _run(self) -> None:
        sent = dict(self.own)
        try:
            totals = await self._sync(sent)
        except (RedisError, OSError) as exc:
            self._retry_at = time.monotonic() + RETRY_AFTER
            if not self._failing:
                log.warning("shared state: could not sync leases: %s", exc)
            self._failing = True
            raise
        finally:
            self._task = None
        if self._failing:
            log.info("shared state: lease sync works again")
            self._failing = False
        self._sent, self._totals, self._synced_at = sent, totals, time.monotonic()
        self.synced = True
        if self.own != sent and self._timer is None:
            self._arm()

    def _arm(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self._every, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self.sync()

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None:  # let it finish, so it cannot land after a retirement
            with contextlib.suppress(RedisError, OSError):
                await self._task
        self.own.clear()


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # logged in _run; retrieved so asyncio does not report it again
