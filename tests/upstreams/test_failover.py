"""Several Codex base URLs: a dead, failing or silent base is skipped; 4xx answers are not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.server import RunningSimulator, start_simulator
from gptgate.upstreams.codex.client import CodexUpstream
from tests.support import Served, start_gateway, start_raw_upstream
from tests.support import test_account as make_account
from tests.upstreams.proxy_servers import closed_port

TRANSPORTS = ["aiohttp", "curl_cffi"]
CODEX = "/backend-api/codex"


async def ask(base: str) -> tuple[int, Any]:
    payload = {"model": "gpt-5.5", "input": "hi", "stream": False}
    async with aiohttp.ClientSession() as http, http.post(base + "/v1/responses", json=payload) as resp:
        return resp.status, await resp.json(content_type=None)


def turns(simulator: RunningSimulator) -> int:
    return sum(r["path"].endswith("/responses") for r in simulator.state.requests)


class Counting:
    """A fake base answering every call with ``status`` (after ``delay`` seconds)."""

    def __init__(self, status: int, body: bytes = b"{}", delay: float = 0.0) -> None:
        self.status, self.body, self.delay = status, body, delay
        self.hits = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits += 1
        await request.read()
        await asyncio.sleep(self.delay)
        return web.Response(status=self.status, body=self.body, content_type="application/json")


@pytest.fixture
async def second() -> AsyncIterator[RunningSimulator]:
    sim = await start_simulator(SimulatorConfig())
    try:
        yield sim
    finally:
        await sim.close()


@pytest.fixture
async def closing() -> AsyncIterator[list[Served]]:
    served: list[Served] = []
    yield served
    for s in served:
        await s.close()


async def gateway(first: str, second: RunningSimulator, closing: list[Served], **settings: Any) -> Served:
    served = await start_gateway(first, codex_base_urls=[second.base_url + CODEX], **settings)
    closing.append(served)
    return served


def codex(served: Served) -> CodexUpstream:
    assert served.gateway is not None
    upstream = served.gateway.upstreams["codex"]
    assert isinstance(upstream, CodexUpstream)
    return upstream


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_unreachable_first_base_fails_over_to_the_second(
    second: RunningSimulator, closing: list[Served], transport: str
) -> None:
    served = await gateway(f"http://127.0.0.1:{closed_port()}", second, closing, codex_transport=transport)
    for _ in range(3):
        status, body = await ask(served.base_url)
        assert status == 200 and body["status"] == "completed"
    assert turns(second) == 3
    assert list(codex(served)._bases.order()) == [1, 0]  # the dead one is tried last for a while


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_stopped_simulator_fails_over_and_the_down_mark_expires(
    second: RunningSimulator, closing: list[Served], transport: str
) -> None:
    first = await start_simulator(SimulatorConfig())
    served = await gateway(first.base_url, second, closing, codex_transport=transport, base_down_seconds=0.3)
    assert (await ask(served.base_url))[0] == 200 and turns(first) == 1
    await first.close()
    assert (await ask(served.base_url))[0] == 200 and turns(second) == 1
    await asyncio.sleep(0.35)
    assert list(codex(served)._bases.order()) == [0, 1]  # tried first again (and fails over again)
    assert (await ask(served.base_url))[0] == 200 and turns(second) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_from_the_first_base_fails_over_and_marks_it_down(
    second: RunningSimulator, closing: list[Served], status: int
) -> None:
    fake = Counting(status, b'{"error": {"message": "bad gateway"}}')
    first = await start_raw_upstream(fake.handle)
    closing.append(first)
    served = await gateway(first.base_url, second, closing, base_down_seconds=0.3)
    assert (await ask(served.base_url))[0] == 200
    assert (await ask(served.base_url))[0] == 200
    assert (fake.hits, turns(second)) == (1, 2)  # the second request started with the healthy base
    await asyncio.sleep(0.35)
    assert (await ask(served.base_url))[0] == 200
    assert (fake.hits, turns(second)) == (2, 3)


async def test_no_first_byte_in_time_fails_over(second: RunningSimulator, closing: list[Served]) -> None:
    fake = Counting(200, delay=5.0)
    first = await start_raw_upstream(fake.handle)
    closing.append(first)
    served = await gateway(first.base_url, second, closing, first_byte_timeout=0.5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await ask(served.base_url))[0] == 200
    assert fake.hits == 1 and turns(second) == 1 and loop.time() - started < 3


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            401,
            b'{"error": {"message": "Provided authentication token is expired.", "code": "token_expired"}}',
        ),
        (400, b'{"detail": "Unsupported parameter: foo"}'),
        (429, b'{"error": {"type": "usage_limit_reached", "message": "limit", "resets_in_seconds": 60}}'),
    ],
)
async def test_request_and_credential_errors_are_not_failed_over(
    second: RunningSimulator, closing: list[Served], status: int, body: bytes
) -> None:
    fake = Counting(status, body)
    first = await start_raw_upstream(fake.handle)
    closing.append(first)
    served = await gateway(first.base_url, second, closing)
    got, _ = await ask(served.base_url)
    assert got != 200 and fake.hits >= 1 and turns(second) == 0
    assert list(codex(served)._bases.order()) == [0, 1]  # not marked down


async def test_list_models_fails_over(second: RunningSimulator, closing: list[Served]) -> None:
    served = await gateway(f"http://127.0.0.1:{closed_port()}", second, closing)
    models = await codex(served).list_models(make_account())
    assert "gpt-5.5" in {m["slug"] for m in models}
