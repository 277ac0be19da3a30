"""In-process ``PoolState``: the default when one process serves the pool.

Locks honour their TTL like the Redis ones (a holder past its TTL loses the lock to the next
taker, and its late release is a no-op), so code tested against one behaves the same on the other.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress

from gptgate.state.base import LOCK_TIMEOUT, Check, Cooldown, Held, LockContext, Messages, Slot

#: The sticky map is swept of expired entries when it grows past this many since the last sweep.
STICKY_SWEEP_MIN = 1024
#: A concurrency limit's held slots are swept of expired ones at the limit, or past this many.
SLOT_SWEEP_MIN = 1024

_monotonic = time.monotonic  # one name to load on the hot path, not two


class _Slot:
    __slots__ = ("expires", "freed", "token")

    def __init__(self, token: str, expires: float) -> None:
        self.token = token
        self.expires = expires
        self.freed = asyncio.Event()


class _Bound:
    """A session's account in the sticky map, and when the binding expires (monotonic)."""

    __slots__ = ("account", "until")

    def __init__(self, account: str, until: float) -> None:
        self.account = account
        self.until = until


class MemoryState:
    def __init__(self) -> None:
        self._cooldowns: dict[str, Cooldown] = {}
        self._leases: dict[str, int] = {}
        self._sticky: dict[str, _Bound] = {}
        self._sweep_at = STICKY_SWEEP_MIN
        self._locks: dict[str, _Slot] = {}
        self._channels: dict[str, set[Messages]] = {}
        #: limit counters: name -> [value, ends_at (epoch s)]; slots: name -> {id: expiry (monotonic)}
        self._counters: dict[str, list[float]] = {}
        self._counters_sweep_at = STICKY_SWEEP_MIN
        self._slots: dict[str, dict[str, float]] = {}

    # -- cooldowns

    async def set_cooldown(self, account: str, until: float, reason: str) -> None:
        current = self._cooldowns.get(account)
        if current is None or until > current.until:
            self._cooldowns[account] = Cooldown(until, reason)

    async def clear_cooldown(self, account: str) -> None:
        self._cooldowns.pop(account, None)

    async def cooldowns(self) -> dict[str, Cooldown]:
        return self.cooldowns_now()

    # The pool's hot path calls these synchronous forms when its state is this in-process one
    # (no coroutine per call); the async methods of ``PoolState`` are the same code.
    def cooldowns_now(self) -> dict[str, Cooldown]:
        if not self._cooldowns:
            return {}
        now = time.time()
        return {a: c for a, c in self._cooldowns.items() if c.until > now}

    # -- leases

    async def lease(self, account: str) -> None:
        self.lease_now(account)

    def lease_now(self, account: str) -> None:
        self._leases[account] = self._leases.get(account, 0) + 1

    async def unlease(self, account: str) -> None:
        self.unlease_now(account)

    def unlease_now(self, account: str) -> None:
        n = self._leases.get(account, 0)
        if n > 1:
            self._leases[account] = n - 1
        elif n == 1:
            del self._leases[account]

    async def in_flight(self) -> dict[str, int]:
        return self.in_flight_now()

    def in_flight_now(self) -> dict[str, int]:
        return dict(self._leases)

    # -- sticky map

    async def sticky_get(self, key: str, ttl: float | None = None) -> str | None:
        return self.sticky_get_now(key, ttl)

    def sticky_get_now(self, key: str, ttl: float | None = None) -> str | None:
        entry = self._sticky.get(key)
        if entry is None:
            return None
        now = _monotonic()
        if entry.until <= now:
            del self._sticky[key]
            return None
        if ttl is not None:
            entry.until = now + ttl  # in place: no new entry per lookup
        return entry.account

    async def sticky_set(self, key: str, account: str, ttl: float) -> None:
        self.sticky_set_now(key, account, ttl)

    def sticky_set_now(self, key: str, account: str, ttl: float) -> None:
        self._sticky[key] = _Bound(account, time.monotonic() + ttl)
        if len(self._sticky) >= self._sweep_at:
            self._sweep()

    async def sticky_drop(self, key: str) -> None:
        self._sticky.pop(key, None)

    def _sweep(self) -> None:
        now = time.monotonic()
        self._sticky = {k: v for k, v in self._sticky.items() if v.until > now}
        self._sweep_at = max(STICKY_SWEEP_MIN, 2 * len(self._sticky))

    # -- locks

    def lock(self, name: str, ttl: float, timeout: float = LOCK_TIMEOUT) -> LockContext:
        return LockContext(self, name, ttl, timeout)

    async def acquire_lock(self, name: str, ttl: float, deadline: float) -> Held | None:
        token = secrets.token_hex(8)
        waited = False
        while True:
            now = time.monotonic()
            slot = self._locks.get(name)
            if slot is None or slot.expires <= now:
                if slot is not None:
                    slot.freed.set()
                self._locks[name] = _Slot(token, now + ttl)
                return Held(name, token, waited)
            if now >= deadline:
                return None
            waited = True
            with suppress(TimeoutError):
                async with asyncio.timeout(min(deadline, slot.expires) - now):
                    await slot.freed.wait()

    async def release_lock(self, held: Held, ttl: float) -> None:
        slot = self._locks.get(held.name)
        if slot is not None and slot.token == held.token:
            del self._locks[held.name]
            slot.freed.set()

    # -- notifications

    async def publish(self, channel: str, message: str) -> None:
        for messages in self._channels.get(channel, ()):
            messages.put(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        messages = Messages()
        self._channels.setdefault(channel, set()).add(messages)
        try:
            yield messages
        finally:
            subscribers = self._channels[channel]
            subscribers.discard(messages)
            if not subscribers:
                del self._channels[channel]

    # -- limit counters

    async def limit_admit(self, checks: Sequence[Check], slot: Slot | None) -> Check | Slot | None:
        return self.limit_admit_now(checks, slot)

    def limit_admit_now(self, checks: Sequence[Check], slot: Slot | None) -> Check | Slot | None:
        """``limit_admit`` without a coroutine (the key limiter calls it so on this state)."""
        now = time.time()
        counters = self._counters
        for check in checks:  # a counter past its window's end counts as 0
            entry = counters.get(check.name)
            if (entry[0] if entry is not None and entry[1] > now else 0.0) >= check.limit:
                return check
        if slot is not None:
            clock = time.monotonic()
            held = self._slots.setdefault(slot.name, {})
            # expired slots (a holder that never gave its slot back) matter only at the limit;
            # past SLOT_SWEEP_MIN held ones they are swept anyway, so a dict never grows unbounded
            if len(held) >= slot.limit or len(held) >= SLOT_SWEEP_MIN:
                for id_ in [i for i, expiry in held.items() if expiry <= clock]:
                    del held[id_]
            if len(held) >= slot.limit:
                return slot
            held[slot.id] = clock + slot.ttl
        self._count(checks, now)
        return None

    async def limit_close(self, slot: Slot | None, counts: Sequence[Check]) -> None:
        self.limit_close_now(slot, counts)

    def limit_close_now(self, slot: Slot | None, counts: Sequence[Check]) -> None:
        """``limit_close`` without a coroutine (the key limiter calls it so on this state)."""
        if slot is not None:
            held = self._slots.get(slot.name)
            if held is not None:
                held.pop(slot.id, None)
                if not held:
                    del self._slots[slot.name]
        self._count(counts, time.time())

    async def limit_seed(self, name: str, value: int, ends_at: float) -> None:
        now = time.time()
        entry = self._counters.get(name)
        if (entry is None or entry[1] <= now) and ends_at > now:
            self._counters[name] = [float(value), ends_at]

    def _count(self, counts: Sequence[Check], now: float) -> None:
        counters = self._counters
        for count in counts:  # (most of admission's checks add nothing)
            add = count.add
            if add and count.ends_at > now:
                name = count.name
                entry = counters.get(name)
                if entry is None or entry[1] <= now:
                    counters[name] = [float(add), count.ends_at]
                else:
                    entry[0] += add
        if len(counters) >= self._counters_sweep_at:
            self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
            self._counters_sweep_at = max(STICKY_SWEEP_MIN, 2 * len(self._counters))

    async def close(self) -> None:
        self._leases.clear()
