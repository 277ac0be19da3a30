"""Per-call cost of each ``PoolState`` operation (a script, not a test).

    .venv/bin/python -m tests.state.measure_ops [--n 5000]

Starts a throwaway redis-server (tests/servers/redis.py), then for each implementation calls
every operation N times in a row from one coroutine and prints wall and CPU microseconds per
call: this process's CPU (``time.process_time``) and, for Redis, the server's (``INFO cpu``).
Then the hot-path pair lease+unlease with 64 concurrent requests, and how fast a lock waiter
gets a released lock: woken by the ``unlock`` announcement vs polling alone.

Figures on the 2-core dev box, Python 3.11, asyncio loop, redis-py 8.1, redis-server 7.0 on
loopback (CPU microseconds per call in this process; the server's CPU is 10-90 us more):

    op                         memory   redis
    cooldowns()                   0.3     0.4   local mirror
    lease / unlease               0.3     0.4   written behind; one sync round trip ~190 us,
    in_flight()                   0.3     0.7     at most 1 per sync_every (20 ms): 46/s at 49k req/s
    set_/clear_cooldown           0.5     160   one script call
    sticky_get / sticky_set       0.7     135   one command (GETEX with ttl: 145)
    lock + release (free)         5       400   two script calls
    publish                       0.3     135
    pool-like request (64 concurrent: cooldowns, in_flight, lease, 1 ms sleep, unlease):
    memory 15 us, redis 20 us of CPU per request, the 1 ms sleep's timer included.

A redis-py round trip costs ~125-190 us of CPU here (a raw asyncio stream does the same GET
for ~30 us; the rest is redis-py's pool, retry and observability layers), which is why lease,
unlease and in_flight, once one script call each (145-150 us), are now written behind.
Lock handoff, median release-to-acquire: 1.0 ms woken by the announcement (2 attempts per
handoff), 4.5-8.5 ms polling every 10 ms (~100 attempts/s per waiter), 23-29 ms at 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from gptgate.state import MemoryState, PoolState
from gptgate.state.redis import RedisState
from tests.servers.redis import running_redis, unique_prefix

Op = Callable[[int], Awaitable[Any]]


async def server_cpu(raw: Redis | None) -> float:
    if raw is None:
        return 0.0
    info = await raw.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def measure(name: str, op: Op, n: int, raw: Redis | None) -> None:
    for i in range(min(n, 200)):  # warm up: connections, script cache
        await op(i)
    srv0, cpu0, wall0 = await server_cpu(raw), time.process_time(), time.perf_counter()
    for i in range(n):
        await op(i)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    srv = await server_cpu(raw) - srv0
    print(
        f"  {name:<28} wall {wall / n * 1e6:8.1f} us   cpu {cpu / n * 1e6:7.1f} us   server {srv / n * 1e6:6.1f} us"
    )


def operations(state: PoolState) -> list[tuple[str, Op]]:
    until = time.time() + 3600
    extra: list[tuple[str, Op]] = []
    if isinstance(state, RedisState):
        leases = state._leases
        extra.append(("  the lease sync itself", lambda i: leases.sync()))

    async def lock_cycle(i: int) -> None:
        async with state.lock("bench", ttl=10):
            pass

    async def lease_pair(i: int) -> None:
        await state.lease("acct-1")
        await state.unlease("acct-1")

    return [
        ("cooldowns() [5 cooling]", lambda i: state.cooldowns()),
        ("set_cooldown", lambda i: state.set_cooldown(f"acct-{i % 5}", until, "usage_limit_reached")),
        ("lease", lambda i: state.lease("acct-1")),
        ("unlease", lambda i: state.unlease("acct-1")),
        ("lease+unlease", lease_pair),
        ("in_flight() [1 account]", lambda i: state.in_flight()),
        *extra,
        ("sticky_set", lambda i: state.sticky_set(f"s{i % 1000}", "acct-1", 3600)),
        ("sticky_get (hit)", lambda i: state.sticky_get(f"s{i % 1000}")),
        ("sticky_get (hit, ttl)", lambda i: state.sticky_get(f"s{i % 1000}", ttl=3600)),
        ("lock+release (free)", lock_cycle),
        ("publish (no subscriber)", lambda i: state.publish("accounts", "reload acct-1")),
        ("clear_cooldown", lambda i: state.clear_cooldown(f"acct-{i % 5}")),
    ]


async def concurrent_pairs(state: PoolState, total: int, width: int) -> None:
    async def worker(k: int) -> None:
        for _ in range(total // width):
            await state.lease(f"acct-{k % 8}")
            await state.unlease(f"acct-{k % 8}")

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(width)))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    n = total // width * width
    print(
        f"  lease+unlease x{width} concurrent   {n / wall:8.0f} pairs/s   cpu {cpu / n * 1e6:7.1f} us per pair"
    )


async def sustained(state: PoolState, seconds: float, width: int, raw: Redis | None) -> None:
    """What the pool does per request (cooldowns, in_flight, lease, 1 ms of "work", unlease) from
    ``width`` concurrent requests for ``seconds``: CPU per request including background syncs."""
    done = 0
    stop = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await state.cooldowns()
            counts = await state.in_flight()
            account = min((f"acct-{j}" for j in range(8)), key=lambda a: counts.get(a, 0))
            await state.lease(account)
            await asyncio.sleep(0.001)
            await state.unlease(account)
            done += 1

    calls0 = await evalsha_calls(raw) if raw else 0
    cpu0 = time.process_time()
    await asyncio.gather(*(worker(k) for k in range(width)))
    cpu = time.process_time() - cpu0
    syncs = (await evalsha_calls(raw) - calls0) if raw else 0
    print(
        f"  sustained x{width}, {seconds:g}s: {done / seconds:7.0f} req/s   "
        f"state cpu {cpu / done * 1e6:5.1f} us per request (sleep included)   syncs {syncs / seconds:4.0f}/s"
    )


class PollingOnly(RedisState):
    """A waiter that ignores release announcements: what polling alone would give."""

    def _dispatch(self, kind: str, channel: str, data: Any) -> None:
        if channel != self._k_unlock:
            super()._dispatch(kind, channel, data)


async def handoff(holder: PoolState, waiter: PoolState, rounds: int, raw: Redis) -> tuple[float, float]:
    """Median ms from release to the waiter holding the lock, and the waiter's EVALSHA calls per
    second of waiting."""
    delays: list[float] = []
    calls0 = await evalsha_calls(raw)
    waiting = 0.0
    acquired_at = 0.0

    async def wait() -> None:
        nonlocal acquired_at
        async with waiter.lock("handoff", ttl=10, timeout=10):
            acquired_at = time.perf_counter()

    for _ in range(rounds):
        ctx = holder.lock("handoff", ttl=10)
        await ctx.__aenter__()
        task = asyncio.create_task(wait())
        pause = random.uniform(0.15, 0.25)  # not in step with the waiter's polling
        await asyncio.sleep(pause)
        waiting += pause
        released_at = time.perf_counter()
        await ctx.__aexit__(None, None, None)
        await task
        delays.append((acquired_at - released_at) * 1000)
    calls = await evalsha_calls(raw) - calls0 - 2 * rounds  # minus the holder's acquire+release
    return statistics.median(delays), calls / waiting


async def evalsha_calls(raw: Redis) -> int:
    stats = await raw.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def main(n: int) -> None:
    with running_redis() as server:
        raw = Redis.from_url(server.url, decode_responses=True)
        states: list[tuple[str, PoolState, Redis | None]] = [
            ("memory", MemoryState(), None),
            ("redis", RedisState(server.url, unique_prefix()), raw),
        ]
        for label, state, server_raw in states:
            print(f"{label}: {n} sequential calls each")
            for name, op in operations(state):
                await measure(name, op, n, server_raw)
            await concurrent_pairs(state, 20_000, 64)
            await sustained(state, 2.0, 64, server_raw)
            await state.close()
        print("lock handoff (holder and waiter in separate RedisStates):")
        prefix = unique_prefix()
        for label, poll in (
            ("announced (lock_poll 0.5s)", 0.5),
            ("polling 10ms", 0.01),
            ("polling 50ms", 0.05),
        ):
            holder = RedisState(server.url, prefix)
            kind = RedisState if label.startswith("announced") else PollingOnly
            waiter = kind(server.url, prefix, lock_poll=poll)
            median, rate = await handoff(holder, waiter, 20, raw)
            print(f"  {label:<28} median {median:6.2f} ms   waiter round trips {rate:5.1f}/s")
            await holder.close()
            await waiter.close()
        await raw.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    asyncio.run(main(parser.parse_args().n))
