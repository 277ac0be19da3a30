"""The pool's shared runtime state: one interface, an in-process and a Redis implementation.

What lives here is what every worker process and gateway instance must agree on about the
accounts, and nothing that must survive a full restart (that is the store's job):

- **cooldowns**: account -> ``Cooldown(until, reason)``; ``until`` is wall-clock epoch seconds
  (``time.time()``, the same clock as the upstream's ``resets_at``). Read on every request, so
  the Redis implementation answers from a local mirror kept fresh by pub/sub.
- **leases**: in-flight requests per account (least-busy picking). A crashed process's leases
  expire instead of leaking.
- **sticky map**: session key -> account id, each entry with its own TTL.
- **locks**: single-flight across processes (token refresh), with a TTL so a dead holder cannot
  wedge everyone; a lock is only ever released by its holder.
- **notifications**: ``publish``/``subscribe`` so a process that refreshed an account's tokens
  can tell the others to reload it from the store.
- **limit counters** (client keys): windowed counters that end at a wall-clock time (requests
  and tokens per minute, token budgets per day/week/month) and concurrency slots that free
  themselves after a TTL or when their process dies, checked and taken in one atomic call.

TTLs and timeouts are seconds (floats). Names, keys and accounts are free-form strings; an
account id may not contain a newline. Make one state per process, after any fork. With Redis,
an operation that needs a round trip raises ``redis.exceptions.RedisError`` when Redis cannot be
reached; ``cooldowns()``, ``lease()``, ``unlease()`` and ``in_flight()`` do not, they work
from local copies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import NamedTuple, Protocol

#: How long ``lock()`` waits for the holder by default, in seconds.
LOCK_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Cooldown:
    """An account cooling down until ``until`` (epoch seconds) because of ``reason``."""

    until: float
    reason: str


@dataclass(frozen=True, slots=True)
class Held:
    """A lock this caller holds. ``waited`` says another holder had it first: for a refresh,
    that usually means the work is done already and the account should just be reloaded."""

    name: str
    token: str
    waited: bool


class Check(NamedTuple):
    """A windowed counter ``name`` that ends at ``ends_at`` (epoch seconds, then it is gone).

    In :meth:`PoolState.limit_admit` the call is refused while the counter is at ``limit`` or
    more; once admitted, ``add`` is added. In :meth:`PoolState.limit_close` only ``add`` counts.
    (A named tuple: a keyed call makes several per request, and a frozen dataclass costs twice
    as much to build.)
    """

    name: str
    limit: int
    ends_at: float
    add: int = 0


class Slot(NamedTuple):
    """One of at most ``limit`` concurrent holders of ``name`` (a client key's open streams).

    ``id`` is unique per call. A slot not given back frees itself after ``ttl`` seconds, and
    (Redis) as soon as its process stops renewing its registration, so a crash leaks nothing.
    """

    name: str
    limit: int
    id: str
    ttl: float


class LockTimeout(TimeoutError):
    """``lock()`` gave up waiting for another holder."""

    def __init__(self, name: str, timeout: float) -> None:
        super().__init__(f"lock {name!r} still held by another after {timeout:g}s")
        self.name = name
        self.timeout = timeout


class LockBackend(Protocol):
    async def acquire_lock(self, name: str, ttl: float, deadline: float) -> Held | None:
        """Take the lock, waiting until ``deadline`` (``time.monotonic()``); None if it could not."""

    async def release_lock(self, held: Held, ttl: float) -> None:
        """Release it if it is still ours (a no-op once another took it after its TTL)."""


class LockContext(AbstractAsyncContextManager[Held]):
    """What ``lock()`` returns: acquires on ``async with`` entry, releases on exit."""

    __slots__ = ("_backend", "_held", "name", "timeout", "ttl")

    def __init__(self, backend: LockBackend, name: str, ttl: float, timeout: float) -> None:
        self._backend = backend
        self.name = name
        self.ttl = ttl
        self.timeout = timeout
        self._held: Held | None = None

    async def __aenter__(self) -> Held:
        held = await self._backend.acquire_lock(self.name, self.ttl, time.monotonic() + self.timeout)
        if held is None:
            raise LockTimeout(self.name, self.timeout)
        self._held = held
        return held

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        held, self._held = self._held, None
        if held is not None:
            await self._backend.release_lock(held, self.ttl)


class Messages:
    """One subscription's messages in arrival order: an async iterator over a local queue."""

    __slots__ = ("_queue",)

    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue()

    def put(self, message: str) -> None:
        self._queue.put_nowait(message)

    def __aiter__(self) -> Messages:
        return self

    async def __anext__(self) -> str:
        return await self._queue.get()


class PoolState(Protocol):
    """Runtime state shared by every process serving one account pool."""

    async def set_cooldown(self, account: str, until: float, reason: str) -> None:
        """Cool ``account`` down until ``until``; an existing later cooldown is kept."""

    async def clear_cooldown(self, account: str) -> None: ...

    async def cooldowns(self) -> dict[str, Cooldown]:
        """The cooldowns that have not ended yet (a fresh dict the caller may keep)."""

    async def lease(self, account: str) -> None:
        """Count one more request in flight on ``account``."""

    async def unlease(self, account: str) -> None:
        """Count one fewer; never below what this process leased."""

    async def in_flight(self) -> dict[str, int]:
        """Requests in flight per account, across every live process (zero counts left out):
        exact for this process's own, a few tens of ms behind for the others' (Redis)."""

    async def sticky_get(self, key: str, ttl: float | None = None) -> str | None:
        """The account bound to ``key``; with ``ttl``, a hit also extends the binding to ``ttl``
        from now (sliding expiry in one call). Without it the TTL is not touched."""

    async def sticky_set(self, key: str, account: str, ttl: float) -> None:
        """Bind ``key`` to ``account`` for ``ttl`` seconds (replacing any binding)."""

    async def sticky_drop(self, key: str) -> None: ...

    def lock(self, name: str, ttl: float, timeout: float = LOCK_TIMEOUT) -> AbstractAsyncContextManager[Held]:
        """Hold the lock ``name`` for the ``async with`` body, at most ``ttl`` seconds (after
        that another may take it). Waits up to ``timeout`` seconds, then raises ``LockTimeout``."""

    async def publish(self, channel: str, message: str) -> None:
        """Send ``message`` to every current subscriber of ``channel``, in every process. At most
        once: a subscriber whose connection is down at the time misses it, so a notification
        is a hint to act sooner, not the only way a process learns of a change."""

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """``async with state.subscribe(ch) as messages: async for m in messages: ...``.
        The subscription is live when the ``async with`` is entered, and ends with it."""

    async def limit_admit(self, checks: Sequence[Check], slot: Slot | None) -> Check | Slot | None:
        """Atomically: the first check at or over its limit (or the slot, when all ``limit`` are
        held) is returned and nothing changes; else every check's ``add`` is counted, the slot
        is taken and None is returned."""

    async def limit_close(self, slot: Slot | None, counts: Sequence[Check]) -> None:
        """Give ``slot`` back (if held) and add each count's ``add`` to its window."""

    async def limit_seed(self, name: str, value: int, ends_at: float) -> None:
        """Set the counter ``name`` to ``value`` unless it exists (a window's spend read from
        the store after a restart; a counter another process already keeps wins)."""

    async def close(self) -> None:
        """Stop background work and drop this process's leases."""
