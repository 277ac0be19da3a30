"""Graceful shutdown of ``gptgate serve`` (a real process): SIGTERM closes the port at once,
lets the streams in progress finish, writes the usage rows still buffered, and exits 0; a stream
longer than ``shutdown_seconds`` is cut at that deadline; ``/readyz`` says ``draining``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest

from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.server import RunningSimulator, start_simulator
from gptgate.simulator.tokens import make_access_token
from tests.accounts.served import GatewayProcess, start_gateway_process
from tests.support import start_gateway

SECRET = "shutdown-tests-secret-key-0123456789"
STREAMS = 20
INTERVAL_MS = 100.0  # 8 text deltas and their framing: about 1.5 s a stream


@pytest.fixture
async def paced() -> AsyncIterator[RunningSimulator]:
    sim = await start_simulator(SimulatorConfig(mode="paced", interval_ms=INTERVAL_MS, record_requests=False))
    try:
        yield sim
    finally:
        await sim.close()


def serve(simulator: RunningSimulator, tmp_path: Path, **settings: str) -> GatewayProcess:
    return start_gateway_process(
        simulator,
        tmp_path,
        access_token=make_access_token("acct-drain-0001", plan="plus"),
        database_url=f"sqlite:///{tmp_path / 'gw.db'}",
        secret_key=SECRET,
        usage_flush_seconds="600",  # rows wait in memory: only the shutdown writes them
        usage_batch_size="10000",
        **settings,
    )


def usage_rows(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "gw.db") as db:
        return int(db.execute("select count(*) from usage").fetchone()[0])


async def stream(http: aiohttp.ClientSession, base: str, started: asyncio.Event | None = None) -> bytes:
    """One streamed chat turn; ``started`` is set once its first bytes arrive."""
    body = {"model": "gpt-5.5", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with http.post(base + "/v1/chat/completions", data=orjson.dumps(body)) as resp:
        assert resp.status == 200
        chunks = [await resp.content.readany()]
        if started is not None:
            started.set()
        with contextlib.suppress(aiohttp.ClientPayloadError):  # cut: the caller looks at what came
            while chunk := await resp.content.readany():
                chunks.append(chunk)
        return b"".join(chunks)


async def connect_refused(base: str) -> bool:
    host, port = base.removeprefix("http://").split(":")
    try:
        _, writer = await asyncio.open_connection(host, int(port))
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


async def exited(gateway: GatewayProcess, within: float) -> int | None:
    try:
        return await asyncio.wait_for(asyncio.to_thread(gateway.proc.wait), within)
    except TimeoutError:
        return None


async def test_sigterm_finishes_open_streams_then_writes_usage_and_exits(
    paced: RunningSimulator, tmp_path: Path
) -> None:
    gateway = serve(paced, tmp_path, shutdown_seconds="20")
    try:
        async with aiohttp.ClientSession() as http:
            started = [asyncio.Event() for _ in range(STREAMS)]
            tasks = [asyncio.ensure_future(stream(http, gateway.base_url, s)) for s in started]
            await asyncio.wait_for(asyncio.gather(*(s.wait() for s in started)), 10)
            os.killpg(gateway.proc.pid, signal.SIGTERM)
            await asyncio.sleep(0.3)
            assert await connect_refused(gateway.base_url)  # the port is closed while streams go on
            assert gateway.proc.poll() is None
            bodies = await asyncio.wait_for(asyncio.gather(*tasks), 15)
        assert all(body.endswith(b"data: [DONE]\n\n") for body in bodies)
        assert await exited(gateway, 10) == 0
        assert usage_rows(tmp_path) == STREAMS  # buffered for 600 s, written on the way out
    finally:
        gateway.kill()


async def test_a_stream_longer_than_the_deadline_is_cut_at_it(tmp_path: Path) -> None:
    slow = await start_simulator(SimulatorConfig(mode="paced", interval_ms=1000.0, record_requests=False))
    gateway = serve(slow, tmp_path, shutdown_seconds="1")
    try:
        async with aiohttp.ClientSession() as http:
            started = asyncio.Event()
            task = asyncio.ensure_future(stream(http, gateway.base_url, started))
            await asyncio.wait_for(started.wait(), 10)
            sent = time.monotonic()
            os.killpg(gateway.proc.pid, signal.SIGTERM)
            body = await asyncio.wait_for(task, 10)
            assert await exited(gateway, 10) == 0
        assert time.monotonic() - sent < 5.0  # the stream alone would take about 14 s
        assert not body.endswith(b"data: [DONE]\n\n")
        assert usage_rows(tmp_path) == 1  # the cut call is still accounted for
    finally:
        gateway.kill()
        await slow.close()


async def test_readyz_answers_503_draining_once_shutdown_began(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url)
    try:
        assert served.gateway is not None
        async with aiohttp.ClientSession() as http:
            async with http.get(served.base_url + "/readyz") as resp:
                assert resp.status == 200
            served.gateway.draining = True
            async with http.get(served.base_url + "/readyz") as resp:
                assert resp.status == 503
                assert await resp.read() == b'{"status":"draining","checks":{"shutdown":"in progress"}}'
            async with http.get(served.base_url + "/healthz") as resp:
                assert resp.status == 200  # alive: an orchestrator must not restart it for draining
    finally:
        await served.close()
