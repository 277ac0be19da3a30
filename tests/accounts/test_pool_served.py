"""The pool through a real gateway and the simulator: exhaustion mid-run, all exhausted, stickiness."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import aiohttp
import orjson

from gptgate.simulator.server import RunningSimulator
from tests.support import start_gateway
from tests.support import test_account as account_of

IDS = ["acct-pool-a", "acct-pool-b", "acct-pool-c"]


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-5.5", "messages": [{"role": "user", "content": text}], **extra}


async def post(
    http: aiohttp.ClientSession, url: str, body: dict[str, Any]
) -> tuple[int, dict[str, str], Any]:
    async with http.post(url, data=orjson.dumps(body), headers={"content-type": "application/json"}) as resp:
        return resp.status, dict(resp.headers), orjson.loads(await resp.read())


def served_by(simulator: RunningSimulator) -> Counter[str]:
    return Counter(
        r["headers"].get("chatgpt-account-id", "")
        for r in simulator.state.requests
        if r["path"].endswith("/responses")
    )


async def test_one_account_exhausted_mid_run_is_invisible_then_all_exhausted_is_a_429(
    simulator: RunningSimulator,
) -> None:
    simulator.state.set_quota(IDS[1], 30, None)  # b runs out after 30 turns
    served = await start_gateway(simulator.base_url, [account_of(i) for i in IDS])
    url = served.base_url + "/v1/chat/completions"
    statuses: Counter[int] = Counter()
    try:
        async with aiohttp.ClientSession() as http:
            queue = list(range(200))

            async def worker() -> None:
                while queue:
                    n = queue.pop()
                    status, _, body = await post(http, url, chat(f"turn {n}"))
                    statuses[status] += 1
                    assert status == 200, body
                    assert body["choices"][0]["message"]["content"]

            await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(8))), 60)
            assert statuses == {200: 200}
            resets = {}
            for account_id in IDS:
                simulator.state.set_quota(account_id, 0, None)
                resets[account_id] = simulator.state.primary_reset_at(simulator.state.usage_for(account_id))
            for n in range(6):
                status, headers, body = await post(http, url, chat(f"after {n}"))
                assert status == 429, body
                assert body["error"]["code"] == "pool_exhausted"
                assert "pool is exhausted" in body["error"]["message"]
                wait = min(resets.values()) - time.time()
                assert abs(int(headers["Retry-After"]) - wait) <= 2
    finally:
        await served.close()


async def test_a_session_stays_on_one_account_and_moves_when_it_cools(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url, [account_of(i) for i in IDS])
    url = served.base_url + "/v1/chat/completions"
    try:
        async with aiohttp.ClientSession() as http:
            for n in range(100):
                status, _, _ = await post(http, url, chat(f"q{n}", prompt_cache_key="session-1"))
                assert status == 200
                await post(http, url, chat(f"other {n}"))  # unbound traffic rotates meanwhile
            sticky = Counter(
                r["headers"].get("chatgpt-account-id")
                for r in simulator.state.requests
                if r["path"].endswith("/responses")
                and (r["body"] or {}).get("prompt_cache_key") == "session-1"
            )
            home, hits = sticky.most_common(1)[0]
            assert hits / sum(sticky.values()) >= 0.99
            assert len(served_by(simulator)) == 3  # the others still got the unbound requests

            simulator.state.set_quota(home, 0, None)
            simulator.state.clear_requests()
            for n in range(20):
                status, _, _ = await post(http, url, chat(f"r{n}", prompt_cache_key="session-1"))
                assert status == 200
            moved = Counter(
                r["headers"].get("chatgpt-account-id")
                for r in simulator.state.requests
                if r["path"].endswith("/responses")
            )
            # one refused attempt on the cooling home account, then one new home for the rest
            assert moved[home] == 1 and len(moved) == 2 and max(moved.values()) == 20
    finally:
        await served.close()


async def test_quota_windows_are_read_from_the_usage_endpoint(simulator: RunningSimulator) -> None:
    simulator.state.set_quota(IDS[0], 10, None)
    accounts = [account_of(i) for i in IDS[:2]]
    served = await start_gateway(simulator.base_url, accounts, usage_poll_seconds=0.2)
    try:
        for _ in range(100):
            if all(a.quota.updated_at for a in accounts):
                break
            await asyncio.sleep(0.05)
        first, second = (a.quota for a in accounts)
        assert first.plan_type == "plus" and first.primary is not None
        assert first.primary.window_minutes == 300 and first.primary.resets_at is not None
        assert second.primary is not None and second.secondary is not None
        usage_calls = [r for r in simulator.state.requests if r["path"] == "/backend-api/wham/usage"]
        assert {r["headers"]["chatgpt-account-id"] for r in usage_calls} == set(IDS[:2])
    finally:
        await served.close()
