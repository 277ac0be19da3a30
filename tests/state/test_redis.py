"""What only the Redis state promises: agreement between OS processes, and surviving their deaths."""

from __future__ import annotations

import asyncio
import itertools
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from gptgate.state.redis import RedisState
from tests.servers.redis import unique_prefix

ROOT = Path(__file__).resolve().parents[2]


class Workers:
    """``tests/state/worker.py`` processes, killed at the end of the test whatever happened."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self, command: str, *args: str) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.state.worker",
            command,
            self.url,
            self.prefix,
            *args,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        self.procs.append(proc)
        return proc

    @staticmethod
    async def line(proc: asyncio.subprocess.Process, within: float = 10) -> str:
        assert proc.stdout is not None
        async with asyncio.timeout(within):
            return (await proc.stdout.readline()).decode().strip()

    @staticmethod
    async def kill(proc: asyncio.subprocess.Process) -> None:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()

    async def close(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                await self.kill(proc)


@pytest.fixture
async def workers(redis_state: RedisState, redis_url: str) -> AsyncIterator[Workers]:
    pool = Workers(redis_url, redis_state.prefix)
    try:
        yield pool
    finally:
        await pool.close()


async def wait_until(predicate: Callable[[], Awaitable[bool]], within: float, step: float) -> float:
    """Seconds until ``await predicate()`` is true; fails after ``within`` seconds."""
    start = time.monotonic()
    while not await predicate():
        if time.monotonic() - start > within:
            pytest.fail(f"not true within {within}s")
        await asyncio.sleep(step)
    return time.monotonic() - start


async def counts_are(state: RedisState, expected: dict[str, int]) -> bool:
    return await state.in_flight() == expected


async def test_two_processes_take_turns_on_a_lock(workers: Workers, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    procs = [await workers.start("lock-count", "shared", str(counter), "15") for _ in range(2)]
    spans: list[tuple[float, float]] = []
    for proc in procs:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            out = (await proc.stdout.read()).decode().splitlines()
            assert await proc.wait() == 0
        assert out[-1] == "done"
        spans += [(float(a), float(b)) for _, a, b in (line.split() for line in out[:-1])]
    assert counter.read_text() == "30"
    spans.sort()
    assert len(spans) == 30
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans))


async def test_lock_of_a_killed_holder_frees_after_its_ttl(workers: Workers, redis_state: RedisState) -> None:
    proc = await workers.start("hold-lock", "refresh:acct", "1.0")
    assert await workers.line(proc) == "held"
    await workers.kill(proc)
    start = time.monotonic()
    async with redis_state.lock("refresh:acct", ttl=5, timeout=5) as held:
        assert held.waited
        assert time.monotonic() - start < 1.5


async def test_leases_of_a_killed_process_expire(workers: Workers, redis_state: RedisState) -> None:
    await redis_state.lease("a")
    proc = await workers.start("lease", "a", "3", "0.6")
    assert await workers.line(proc) == "leased"
    await wait_until(lambda: counts_are(redis_state, {"a": 4}), within=2, step=0.01)
    await asyncio.sleep(1.0)  # past its lease TTL: its heartbeat keeps the leases alive
    assert await redis_state.in_flight() == {"a": 4}
    await workers.kill(proc)
    assert await wait_until(lambda: counts_are(redis_state, {"a": 1}), within=3, step=0.05) < 1.5


async def test_cooldown_from_another_process_reaches_the_mirror(
    workers: Workers, redis_state: RedisState
) -> None:
    assert await redis_state.cooldowns() == {}
    proc = await workers.start("cooldown", "acct-9", str(time.time() + 600), "usage_limit_reached")
    assert await workers.line(proc) == "set"

    async def visible() -> bool:
        return "acct-9" in await redis_state.cooldowns()

    assert await wait_until(visible, within=2, step=0.001) < 0.5
    assert (await redis_state.cooldowns())["acct-9"].reason == "usage_limit_reached"


async def test_mirror_reloads_when_its_connection_comes_back(redis_state: RedisState, redis_url: str) -> None:
    assert await redis_state.cooldowns() == {}
    async with Redis.from_url(redis_url, decode_responses=True) as raw:
        # Written behind the mirror's back (no announcement): only a reload can find it.
        await raw.hset(redis_state.prefix + "cooldowns", "acct-1", f"{time.time() + 600} hidden")
        await asyncio.sleep(0.2)
        assert await redis_state.cooldowns() == {}
        await raw.client_kill_filter(_type="pubsub")

    async def reloaded() -> bool:
        return "acct-1" in await redis_state.cooldowns()

    await wait_until(reloaded, within=10, step=0.01)
    assert (await redis_state.cooldowns())["acct-1"].reason == "hidden"


async def test_leases_reach_other_processes_within_the_sync_interval(
    redis_state: RedisState, redis_url: str
) -> None:
    other = RedisState(redis_url, redis_state.prefix, sync_every=0.02)
    await redis_state.lease("b")
    assert await redis_state.in_flight() == {"b": 1}
    await other.lease("a")
    await other.lease("a")
    assert await other.in_flight() == {"a": 2, "b": 1}  # its own counts at once
    await other.unlease("a")
    assert await wait_until(lambda: counts_are(redis_state, {"a": 1, "b": 1}), within=2, step=0.002) < 0.2
    await other.close()  # retires its leases at once
    await wait_until(lambda: counts_are(redis_state, {"b": 1}), within=2, step=0.002)


async def test_a_process_reaped_while_alive_puts_its_leases_back(
    redis_state: RedisState, redis_url: str
) -> None:
    await redis_state.lease("a")
    await redis_state.lease("a")
    await redis_state.in_flight()
    async with Redis.from_url(redis_url, decode_responses=True) as raw:
        await raw.zadd(redis_state.prefix + "procs", {redis_state.proc: 0})  # as if frozen past its TTL
    other = RedisState(redis_url, redis_state.prefix)
    try:
        assert await other.in_flight() == {}  # reaped
        await redis_state.lease("b")  # its next sync sends its full counts
        await wait_until(lambda: counts_are(other, {"a": 2, "b": 1}), within=2, step=0.01)
    finally:
        await other.close()


async def test_mirror_starts_over_when_redis_loses_its_data(redis_state: RedisState, redis_url: str) -> None:
    for minutes in (10, 20, 30):  # versions 1..3
        await redis_state.set_cooldown("a", time.time() + 60 * minutes, "before")
    assert list(await redis_state.cooldowns()) == ["a"]
    async with Redis.from_url(redis_url, decode_responses=True) as raw:
        # What a restart without persistence does to this deployment's keys.
        await raw.delete(redis_state.prefix + "cooldowns", redis_state.prefix + "cooldowns:v")
        await raw.client_kill_filter(_type="pubsub")
    other = RedisState(redis_url, redis_state.prefix)
    try:
        await other.set_cooldown("b", time.time() + 600, "after")  # version 1 again

        async def only_b() -> bool:
            return list(await redis_state.cooldowns()) == ["b"]

        await wait_until(only_b, within=10, step=0.01)
    finally:
        await other.close()


async def test_prefixes_keep_deployments_apart(redis_state: RedisState, redis_url: str) -> None:
    other = RedisState(redis_url, unique_prefix())
    try:
        await redis_state.set_cooldown("a", time.time() + 60, "x")
        await redis_state.lease("a")
        await redis_state.sticky_set("s", "a", 60)
        await redis_state.in_flight()
        assert await other.cooldowns() == {}
        assert await other.in_flight() == {}
        assert await other.sticky_get("s") is None
        async with asyncio.timeout(5), redis_state.lock("l", ttl=10), other.lock("l", ttl=10) as held:
            assert not held.waited
        async with other.subscribe("c") as messages:
            await redis_state.publish("c", "not for other")
            await other.publish("c", "for other")
            async with asyncio.timeout(5):
                assert await anext(messages) == "for other"
    finally:
        await other.close()


async def test_a_model_cap_reaches_other_processes(redis_state: RedisState, redis_url: str) -> None:
    other = RedisState(redis_url, redis_state.prefix)
    try:
        assert await other.cooldowns() == {}
        await redis_state.set_cooldown("acc_1/gpt-4o", time.time() + 600, "model_cap_exceeded")

        async def seen() -> bool:
            return list(await other.cooldowns()) == ["acc_1/gpt-4o"]

        await wait_until(seen, within=5, step=0.01)
    finally:
        await other.close()
