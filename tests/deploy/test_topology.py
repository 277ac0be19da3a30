"""The deployment topology as real processes: two ``gptgate serve`` instances (one PostgreSQL
store, one Redis, one secret key) behind nginx with the shipped proxy settings, the simulator as
ChatGPT, streams paced so they stay open together.

1. 1,000 concurrent streams through nginx: every one complete, none failed; the instances' CPU
   and memory for the run are printed (the README quotes them).
2. A rolling restart under load: SIGTERM to one instance while streams run and new ones arrive:
   its open streams finish, new requests go to the other, it exits 0 and starts again; no error.
3. ``kill -9`` of one instance mid-run: the streams it had started are cut (nothing can save
   them), every request it held before its first byte is sent again by nginx to the other
   instance and succeeds, and nothing else fails.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import orjson
import pytest

from tests.deploy.stack import (
    API_KEY,
    Instance,
    Nginx,
    Simulator,
    Usage,
    fixed_port,
    free_port,
    instance_env,
    seed_store,
    start_simulator,
)
from tests.servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401
from tests.servers.redis import RedisServer, redis_server, unique_prefix  # noqa: F401

STREAMS = 1000
INTERVAL_MS = 450.0  # 8 text deltas and 7 framing records: about 7 s a stream, open together
DONE = b"data: [DONE]\n\n"
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}


@dataclass
class Stack:
    nginx: Nginx
    instances: list[Instance]


@dataclass
class Outcome:
    """One streamed call as the client saw it."""

    status: int | None = None  # None: no answer at all
    upstream: str = ""  # nginx's $upstream_addr: "a" or, when retried, "a, b"
    done: bool = False  # the stream ended with [DONE]
    error: str | None = None


class Gauge:
    """Streams open at once (answer started, not finished) and the most seen."""

    def __init__(self) -> None:
        self.open = 0
        self.peak = 0

    def up(self) -> None:
        self.open += 1
        self.peak = max(self.peak, self.open)

    def down(self) -> None:
        self.open -= 1


@pytest.fixture(scope="module")
def stack(
    postgres_server: PostgresServer,  # noqa: F811
    redis_server: RedisServer,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("topology")
    simulator: Simulator | None = None
    instances: list[Instance] = []
    nginx: Nginx | None = None
    database_url = postgres_server.new_database()
    try:
        simulator = start_simulator(root, interval_ms=INTERVAL_MS, accounts=4)
        assert seed_store(database_url, simulator.accounts_file) == 4
        env = instance_env(simulator, database_url, redis_server.url, unique_prefix())
        instances = [Instance(fixed_port(), env, root / f"gptgate-{n}.log") for n in range(2)]
        for instance in instances:
            instance.spawn()
        for instance in instances:
            instance.wait_ready()
        nginx = Nginx(root, free_port(), upstreams=[i.address for i in instances]).start()
        yield Stack(nginx, instances)
    finally:
        for stoppable in (nginx, *instances, simulator):
            if stoppable is not None:
                stoppable.stop()
        postgres_server.drop_database(database_url)


def chat_body(text: str) -> bytes:
    return orjson.dumps({"model": "gpt-5.5", "stream": True, "messages": [{"role": "user", "content": text}]})


async def call(http: aiohttp.ClientSession, base: str, body: bytes, gauge: Gauge) -> Outcome:
    outcome = Outcome()
    try:
        async with http.post(base + "/v1/chat/completions", data=body, headers=HEADERS) as resp:
            outcome.status, outcome.upstream = resp.status, resp.headers.get("X-Upstream", "")
            gauge.up()
            try:
                data = await resp.read()
            finally:
                gauge.down()
            outcome.done = resp.status == 200 and data.endswith(DONE)
    except (TimeoutError, aiohttp.ClientError) as exc:
        outcome.error = type(exc).__name__
    return outcome


def client() -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60))


async def spread(
    http: aiohttp.ClientSession, base: str, body: bytes, count: int, every_s: float, gauge: Gauge
) -> list[asyncio.Task[Outcome]]:
    """``count`` calls, one started every ``every_s`` seconds (the tasks, still running)."""
    tasks = []
    for _ in range(count):
        tasks.append(asyncio.ensure_future(call(http, base, body, gauge)))
        await asyncio.sleep(every_s)
    return tasks


def report(line: str) -> None:
    sys.__stderr__.write(line + "\n") if sys.__stderr__ is not None else None


async def test_1000_concurrent_streams_through_nginx_and_two_instances(stack: Stack) -> None:
    pids = [i.pid for i in stack.instances]
    before = [Usage.of(pid) for pid in pids]
    gauge = Gauge()
    started = time.monotonic()
    async with client() as http:
        outcomes = await asyncio.gather(
            *(call(http, stack.nginx.base_url, chat_body(f"stream {n}"), gauge) for n in range(STREAMS))
        )
    elapsed = time.monotonic() - started
    after = [Usage.of(pid) for pid in pids]
    failed = [o for o in outcomes if not o.done]
    assert failed == [], f"{len(failed)} failed, e.g. {failed[:3]}"
    assert gauge.peak == STREAMS  # all of them open at once
    served = {i.address: sum(o.upstream == i.address for o in outcomes) for i in stack.instances}
    assert all(n > STREAMS // 4 for n in served.values()), served  # both instances took a share
    for instance, b, a in zip(stack.instances, before, after, strict=True):
        report(
            f"topology: {instance.address} served {served[instance.address]} of {STREAMS} streams "
            f"in {elapsed:.1f} s: CPU {a.cpu_s - b.cpu_s:.2f} s, RSS {b.rss / 2**20:.0f} MiB before, "
            f"{a.rss / 2**20:.0f} MiB after, peak {a.peak_rss / 2**20:.0f} MiB"
        )
        assert a.peak_rss < 512 * 2**20


async def test_rolling_restart_under_load_loses_nothing(stack: Stack) -> None:
    """SIGTERM to one instance while streams run and new ones keep arriving, then start it again."""
    first = stack.instances[0]
    gauge = Gauge()
    async with client() as http:
        launch = asyncio.ensure_future(
            spread(http, stack.nginx.base_url, chat_body("restart [[sim:text deltas=1]]"), 200, 0.01, gauge)
        )
        await asyncio.sleep(1.0)
        first.signal(signal.SIGTERM)
        code = await asyncio.to_thread(first.wait, 20)
        first.spawn()
        await asyncio.to_thread(first.wait_ready)
        outcomes = await asyncio.gather(*await launch)
    assert code == 0
    failed = [o for o in outcomes if not o.done]
    assert failed == [], f"{len(failed)} failed, e.g. {failed[:3]}"
    assert any(o.upstream == first.address for o in outcomes)  # it had streams open when told to stop


async def test_kill_9_mid_run_fails_only_streams_already_started(stack: Stack) -> None:
    """Requests wait 1 s for their first byte; one instance is killed while it holds both kinds."""
    victim, survivor = stack.instances[1], stack.instances[0]
    gauge = Gauge()
    body = chat_body("late first byte [[sim:slow_first_byte ms=1000]] [[sim:text deltas=1]]")
    async with client() as http:
        launch = asyncio.ensure_future(spread(http, stack.nginx.base_url, body, 200, 0.01, gauge))
        await asyncio.sleep(2.2)  # the first calls are streaming, the latest wait for their first byte
        victim.signal(signal.SIGKILL)
        outcomes = await asyncio.gather(*await launch)
    failed = [o for o in outcomes if not o.done]
    # a failed call is one whose answer had started on the killed instance: 200 from it, then cut
    assert all(o.status == 200 and o.upstream == victim.address for o in failed), failed[:3]
    retried = [o for o in outcomes if o.upstream == f"{victim.address}, {survivor.address}"]
    assert retried and all(o.done for o in retried)  # held before its first byte: sent again, served
    report(
        f"topology kill -9: {len(outcomes)} calls, {len(failed)} cut mid-stream on the killed instance, "
        f"{len(retried)} sent again by nginx and served, {len(outcomes) - len(failed)} complete"
    )
    victim.spawn()  # the module's stack stays whole for anything after
    await asyncio.to_thread(victim.wait_ready)
