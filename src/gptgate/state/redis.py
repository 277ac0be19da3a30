"""Redis ``PoolState``: shared by every worker process and gateway instance on one Redis.

Costs on the hot path (measured by tests/state/measure_ops.py; figures in its docstring):

- ``cooldowns()`` reads a local mirror, no round trip. One pub/sub connection per process
  carries every change (the Lua script that writes a cooldown publishes the stored value), and
  the mirror is reloaded from the hash whenever that subscription is (re)established, so a
  dropped connection cannot leave it stale once it is back.
- ``lease()``/``unlease()`` change local counts, written behind within ``sync_every`` seconds by
  one round trip that also reads everyone's totals; ``in_flight()`` answers from those (see
  ``leases.py``), so it is exact within the process and ``sync_every`` behind across processes.
- The sticky map and locks are one round trip per call when uncontended.

Leases are counted per process (``inflight:<proc>``) and in a total (``inflight``); each process
renews its registration with every sync and at least every third of ``lease_ttl`` (heartbeat). A
process that stops renewing (killed, frozen) is reaped by the next sync anywhere, which
subtracts its counts from the total. A clean ``close()`` retires its counts at once.

A lock waiter tries ``SET NX PX``, then sleeps until the holder's release is announced on the
``unlock`` channel (the same pub/sub connection), the holder's TTL runs out, or ``lock_poll``
passes (a safety net for an announcement lost with a connection), whichever is first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from gptgate.state import scripts
from gptgate.state.base import LOCK_TIMEOUT, Check, Cooldown, Held, LockContext, Messages, Slot
from gptgate.state.leases import Leases
from gptgate.state.mirror import CooldownMirror

log = logging.getLogger("gptgate.state")

#: Seconds a process may miss heartbeats before its leases are reaped.
LEASE_TTL = 30.0
#: Longest delay before a lease change reaches Redis (and staleness of others' counts).
SYNC_EVERY = 0.02
#: Longest sleep between two attempts of a lock waiter (when no release is announced).
LOCK_POLL = 0.5
#: The pub/sub reader wakes at least this often, so a dead connection is noticed (health check).
READ_POLL = 1.0
HEALTH_CHECK = 10
#: Connections of one process's command pool; calls beyond it wait for a free one.
MAX_CONNECTIONS = 64
RETRY_MIN, RETRY_MAX = 0.05, 2.0


class RedisState:
    def __init__(
        self,
        url: str,
        prefix: str = "gptgate:",
        *,
        lease_ttl: float = LEASE_TTL,
        sync_every: float = SYNC_EVERY,
        lock_poll: float = LOCK_POLL,
        timeout: float = 5.0,
    ) -> None:
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
        }
        # A blocking pool: a burst of calls waits (up to ``timeout``) for one of a bounded set of
        # connections instead of failing once the default 100 are busy (measured: 500 streams
        # arriving at once through one instance made redis-py raise MaxConnectionsError).
        pool = BlockingConnectionPool.from_url(
            url, max_connections=MAX_CONNECTIONS, timeout=timeout, **options
        )
        self._client: Redis = Redis.from_pool(pool)
        self._sub_client: Redis = Redis.from_url(url, health_check_interval=HEALTH_CHECK, **options)
        self.prefix = prefix
        self.proc = secrets.token_hex(8)
        self._lease_ttl_ms = str(max(1, round(lease_ttl * 1000)))
        self._beat_every = lease_ttl / 3
        self._lock_poll = lock_poll
        self._timeout = timeout
        self._k_cooldowns = prefix + "cooldowns"
        self._k_version = prefix + "cooldowns:v"
        self._k_procs = prefix + "procs"
        self._k_total = prefix + "inflight"
        self._k_own_prefix = prefix + "inflight:"
        self._k_unlock = prefix + "unlock"
        self._set_cooldown = self._client.register_script(scripts.SET_COOLDOWN)
        self._clear_cooldown = self._client.register_script(scripts.CLEAR_COOLDOWN)
        self._read_cooldowns = self._client.register_script(scripts.COOLDOWNS)
        self._sync = self._client.register_script(scripts.SYNC)
        self._leases = Leases(self._sync_leases, sync_every)
        self._acquire_lock = self._client.register_script(scripts.ACQUIRE)
        self._release_lock = self._client.register_script(scripts.RELEASE)
        self._limit_admit = self._client.register_script(scripts.LIMIT_ADMIT)
        self._limit_close = self._client.register_script(scripts.LIMIT_CLOSE)
        self._mirror = CooldownMirror()
        self._stale = True
        self._started = False
        self._starting: asyncio.Task[None] | None = None
        self._loaded = asyncio.Event()
        self._pubsub: PubSub | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._lock_waiters: dict[str, set[asyncio.Event]] = {}
        self._channels: dict[str, set[Messages]] = {}
        self._subscribed: dict[str, asyncio.Event] = {}

    # -- background: one pub/sub reader and a heartbeat per process

    async def start(self) -> None:
        """Subscribe and load the cooldown mirror (done by the first call that needs it)."""
        if self._started:
            return
        starting = self._starting
        if starting is None:
            starting = self._starting = asyncio.ensure_future(self._start())
        try:
            await asyncio.shield(starting)
        except BaseException:
            if starting.done() and self._starting is starting:
                self._starting = None  # failed: the next call tries again
            raise

    async def _start(self) -> None:
        if self._pubsub is None:
            pubsub = self._sub_client.pubsub()
            try:
                await pubsub.subscribe(self._k_cooldowns, self._k_unlock)
            except BaseException:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                raise
            self._pubsub = pubsub
            self._tasks.append(asyncio.create_task(self._read(pubsub), name="gptgate-state-pubsub"))
            self._tasks.append(asyncio.create_task(self._heartbeat(), name="gptgate-state-heartbeat"))
        async with asyncio.timeout(self._timeout):
            await self._loaded.wait()
        self._started = True

    async def _read(self, pubsub: PubSub) -> None:
        delay = RETRY_MIN
        while True:
            try:
                if self._stale:
                    await self._load_mirror()
                message = await pubsub.get_message(timeout=READ_POLL)
            except (RedisError, OSError) as exc:
                log.warning("shared state: pub/sub reader: %s (retrying in %.2fs)", exc, delay)
                await asyncio.sleep(delay)
                delay = min(2 * delay, RETRY_MAX)
                continue
            delay = RETRY_MIN
            if message is not None:
                self._dispatch(message["type"], message["channel"], message["data"])

    def _dispatch(self, kind: str, channel: str, data: Any) -> None:
        if kind == "message":
            if channel == self._k_cooldowns:
                self._mirror.announced(data)
            elif channel == self._k_unlock:
                for event in self._lock_waiters.get(data, ()):
                    event.set()
            else:
                for messages in self._channels.get(channel, ()):
                    messages.put(data)
        elif kind == "subscribe":
            # First subscription, or a resubscription after a reconnect: messages may have been
            # missed, so reload the mirror before reading on, and let every lock waiter retry.
            if channel == self._k_cooldowns:
                self._stale = True
            elif channel == self._k_unlock:
                for events in self._lock_waiters.values():
                    for event in events:
                        event.set()
            elif channel in self._subscribed:
                self._subscribed[channel].set()

    async def _load_mirror(self) -> None:
        version, flat = await self._read_cooldowns([self._k_cooldowns, self._k_version])
        self._mirror.load(int(version), dict(zip(flat[::2], flat[1::2], strict=True)))
        self._stale = False
        self._loaded.set()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._beat_every)
            with contextlib.suppress(RedisError, OSError):  # logged by the sync
                await asyncio.shield(self._leases.sync())

    async def _sync_leases(self, own: dict[str, int]) -> dict[str, int]:
        args: list[str | int] = [self._k_own_prefix, self.proc, self._lease_ttl_ms, "sync"]
        for account, n in own.items():
            args += (account, n)
        flat = cast(list[str], await self._sync([self._k_procs, self._k_total], args))
        return {flat[i]: int(flat[i + 1]) for i in range(0, len(flat), 2)}

    # -- cooldowns

    async def set_cooldown(self, account: str, until: float, reason: str) -> None:
        if "\n" in account or not math.isfinite(until):
            raise ValueError(f"bad cooldown: {account!r} until {until!r}")
        keys = [self._k_cooldowns, self._k_version]
        version, value = await self._set_cooldown(keys, [account, repr(float(until)), reason])
        self._mirror.apply(int(version), account, value)

    async def clear_cooldown(self, account: str) -> None:
        version, _ = await self._clear_cooldown([self._k_cooldowns, self._k_version], [account])
        self._mirror.apply(int(version), account, "")

    async def cooldowns(self) -> dict[str, Cooldown]:
        if not self._started:
            await self.start()
        return self._mirror.current()

    # -- leases

    async def lease(self, account: str) -> None:
        if not self._started:
            await self.start()
        self._leases.lease(account)

    async def unlease(self, account: str) -> None:
        self._leases.unlease(account)

    async def in_flight(self) -> dict[str, int]:
        return await self._leases.in_flight()

    # -- sticky map

    async def sticky_get(self, key: str, ttl: float | None = None) -> str | None:
        name = self.prefix + "sticky:" + key
        if ttl is None:
            return cast(str | None, await self._client.get(name))
        return cast(str | None, await self._client.getex(name, px=_ms(ttl)))

    async def sticky_set(self, key: str, account: str, ttl: float) -> None:
        await self._client.set(self.prefix + "sticky:" + key, account, px=_ms(ttl))

    async def sticky_drop(self, key: str) -> None:
        await self._client.delete(self.prefix + "sticky:" + key)

    # -- locks

    def lock(self, name: str, ttl: float, timeout: float = LOCK_TIMEOUT) -> LockContext:
        return LockContext(self, name, ttl, timeout)

    async def acquire_lock(self, name: str, ttl: float, deadline: float) -> Held | None:
        if not self._started:
            await self.start()
        key, token, ttl_ms = self.prefix + "lock:" + name, secrets.token_hex(16), _ms(ttl)
        waited = False
        event = asyncio.Event()
        waiters = self._lock_waiters.setdefault(name, set())
        waiters.add(event)
        try:
            while True:
                event.clear()  # before trying, so a release announced after the try is not missed
                pttl = int(await self._acquire_lock([key], [token, ttl_ms]))
                if pttl == scripts.ACQUIRED:
                    return Held(name, token, waited)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                waited = True
                if pttl == -2:  # the holder's key vanished in between: try again at once
                    continue
                pause = min(remaining, self._lock_poll, pttl / 1000 if pttl >= 0 else self._lock_poll)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await event.wait()
        finally:
            waiters.discard(event)
            if not waiters:
                self._lock_waiters.pop(name, None)

    async def release_lock(self, held: Held, ttl: float) -> None:
        released = await self._release_lock(
            [self.prefix + "lock:" + held.name], [held.token, self._k_unlock, held.name]
        )
        if not released:
            log.warning("shared state: lock %r outlived its %.3gs TTL before release", held.name, ttl)

    # -- limit counters: one script call each (see scripts.LIMIT_ADMIT)

    async def limit_admit(self, checks: Sequence[Check], slot: Slot | None) -> Check | Slot | None:
        if slot is not None and not self._started:
            await self.start()  # the heartbeat keeps this process's registration (slot owner) alive
        keys = [self.prefix + "limit:" + c.name for c in checks]
        args: list[str | int] = [len(checks), 0 if slot is None else 1]
        for check in checks:
            args += (check.limit, check.add, _epoch_ms(check.ends_at))
        if slot is not None:
            keys += (self.prefix + "slots:" + slot.name, self._k_procs)
            args += (slot.limit, f"{self.proc}|{slot.id}", _ms(slot.ttl), self.proc, self._lease_ttl_ms)
        refused = int(await self._limit_admit(keys, args))
        if refused == 0:
            return None
        return checks[refused - 1] if refused <= len(checks) else slot

    async def limit_close(self, slot: Slot | None, counts: Sequence[Check]) -> None:
        keys: list[str] = []
        args: list[str | int] = [0, ""]
        if slot is not None:
            keys.append(self.prefix + "slots:" + slot.name)
            args = [1, f"{self.proc}|{slot.id}"]
        for count in counts:
            if count.add:
                keys.append(self.prefix + "limit:" + count.name)
                args += (count.add, _epoch_ms(count.ends_at))
        if keys:
            await self._limit_close(keys, args)

    async def limit_seed(self, name: str, value: int, ends_at: float) -> None:
        await self._client.set(self.prefix + "limit:" + name, value, nx=True, pxat=_epoch_ms(ends_at))

    # -- notifications

    async def publish(self, channel: str, message: str) -> None:
        await self._client.publish(self.prefix + "chan:" + channel, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        # Channels stay subscribed on the shared connection until close(); a message with no
        # local subscriber is dropped.
        if not self._started:
            await self.start()
        assert self._pubsub is not None
        full = self.prefix + "chan:" + channel
        messages = Messages()
        self._channels.setdefault(full, set()).add(messages)
        try:
            await self._confirm(self._pubsub, full)
            yield messages
        finally:
            subscribers = self._channels[full]
            subscribers.discard(messages)
            if not subscribers:
                del self._channels[full]

    async def _confirm(self, pubsub: PubSub, channel: str) -> None:
        confirmed = self._subscribed.get(channel)
        try:
            async with asyncio.timeout(self._timeout):
                if confirmed is None:
                    confirmed = self._subscribed[channel] = asyncio.Event()
                    await pubsub.subscribe(channel)
                await confirmed.wait()
        except BaseException:
            if confirmed is not None and not confirmed.is_set():
                self._subscribed.pop(channel, None)  # the next subscriber asks again
            raise

    async def close(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._leases.close()
        if self._leases.synced:
            try:
                await self._sync([self._k_procs, self._k_total], [self._k_own_prefix, self.proc, 0, "retire"])
            except (RedisError, OSError) as exc:
                log.warning("shared state: could not retire this process's leases: %s", exc)
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = None
        self._started = False
        self._starting = None
        await self._client.aclose()
        await self._sub_client.aclose()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _epoch_ms(when: float) -> int:
    return max(1, math.ceil(when * 1000))
