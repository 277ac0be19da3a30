"""One transient 401 must not take the pool down (issue 13): refresh once and retry; a fresh token
still refused puts the account on probation (probed again within seconds), and while no account
can serve the client gets a 503 in its door's envelope, never a 429 that blames rate limits."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import orjson

from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.state import Fault
from tests.accounts.served import add_expired, chat, gateway_env, open_test_store, refresh_calls
from tests.support import start_gateway


async def _anthropic(http: aiohttp.ClientSession, base: str, text: str) -> tuple[int, dict[str, str], bytes]:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": text}]}
    async with http.post(base + "/v1/messages", data=orjson.dumps(body)) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def test_a_fresh_token_still_refused_is_probation_not_a_five_minute_429(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    store = open_test_store(url)
    record = add_expired(store, creds)
    served = await start_gateway(simulator.base_url, [], **gateway_env(simulator, url))
    try:
        async with aiohttp.ClientSession() as http:
            await chat(http, served.base_url, "warm up")  # the expired token is refreshed once
            before = refresh_calls(simulator, creds.account_id)
            status, headers, raw = await _anthropic(http, served.base_url, "hi [[sim:unauthorized]]")
            assert status == 503, raw
            assert orjson.loads(raw)["type"] == "error"
            assert orjson.loads(raw)["error"]["type"] != "rate_limit_error"
            assert refresh_calls(simulator, creds.account_id) == before + 1  # refreshed once, retried
            wait = float(headers.get("Retry-After", "0"))
            assert 1 <= wait <= 5, (headers, raw)
            await asyncio.sleep(wait + 0.2)
            status, body = await chat(http, served.base_url, "hi again")
            assert status == 200, body  # probed again within seconds, not parked for 5 minutes
        stored = store.get(record.id)
        assert stored is not None and stored.status == "active"
    finally:
        await served.close()
        store.close()


async def test_a_burst_of_401s_on_every_account_heals_within_seconds(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    store = open_test_store(url)
    for n, creds in enumerate(simulator.state.seed_accounts(3), 1):
        add_expired(store, creds, name=f"seat-{n}")
    served = await start_gateway(simulator.base_url, [], **gateway_env(simulator, url, retry_times="2"))
    try:
        async with aiohttp.ClientSession() as http:
            assert (await chat(http, served.base_url, "warm up"))[0] == 200
            simulator.state.queue_faults([Fault("unauthorized")] * 6)  # each account: 401, refresh, 401
            status, body = await chat(http, served.base_url, "burst")
            assert status in (502, 503), body
            assert body["error"]["code"] != "pool_exhausted"
            assert body["error"]["type"] != "rate_limit_exceeded"
            deadline = time.monotonic() + 8
            while (status := (await chat(http, served.base_url, "after"))[0]) != 200:
                assert status == 503 and time.monotonic() < deadline
                await asyncio.sleep(0.5)
    finally:
        await served.close()
        store.close()
