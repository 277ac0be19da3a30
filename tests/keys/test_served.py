"""Client keys on running gateways: two ``gptgate serve`` processes sharing one Redis.

A key over its per-minute limit gets 429 with Retry-After whichever process it reaches; a key
over its concurrency limit gets 429 while its stream is open on the other process; each door
answers in its own envelope; a key revoked in the store is refused within ``reload_seconds``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from gptgate.accounts import ops as account_ops
from gptgate.keys import ops
from gptgate.keys.model import KeyLimits
from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.tokens import make_access_token
from tests.accounts.served import GatewayProcess, gateway_env, open_test_store, start_gateway_process
from tests.servers.redis import redis_server, redis_url, unique_prefix

__all__ = ["redis_server", "redis_url"]

RPM_MESSAGE = "This API key is over its limit of 3 requests per minute (see Retry-After)."
CONCURRENCY_MESSAGE = (
    "This API key already has 1 request(s) in progress, its concurrency limit; retry when one has finished."
)


class Served:
    def __init__(self, gateways: list[GatewayProcess], secrets: dict[str, str], store: Any) -> None:
        self.gateways, self.secrets, self.store = gateways, secrets, store


@pytest.fixture
async def served(simulator: RunningSimulator, tmp_path: Path, redis_url: str) -> AsyncIterator[Served]:
    url = f"sqlite:///{tmp_path / 'gptgate.db'}"
    store = open_test_store(url)
    account_ops.add(
        store, account_ops.Entry(access_token=make_access_token("acct-keys", plan="plus"), name="a")
    )
    secrets = {
        "rpm": ops.create(store, "rpm", KeyLimits(rpm=3))[1],
        "conc": ops.create(store, "conc", KeyLimits(concurrency=1))[1],
    }
    env = gateway_env(simulator, url, redis_url=redis_url, redis_prefix=unique_prefix(), reload_seconds="0.5")
    settings = {k: str(v) for k, v in env.items()}
    gateways = [start_gateway_process(simulator, tmp_path, **settings) for _ in range(2)]
    try:
        yield Served(gateways, secrets, store)
    finally:
        for gateway in gateways:
            gateway.stop()
        store.close()


async def post(
    http: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, str], Any]:
    async with http.post(url, data=orjson.dumps(body), headers=headers) as resp:
        return resp.status, dict(resp.headers), orjson.loads(await resp.read())


def chat_body(text: str, stream: bool = False) -> dict[str, Any]:
    return {"model": "gpt-5.5", "stream": stream, "messages": [{"role": "user", "content": text}]}


async def not_near_a_minute_end() -> None:
    """The rpm window is the UTC minute: start a count early in one."""
    left = 60 - time.time() % 60
    if left < 8:
        await asyncio.sleep(left + 0.1)


async def test_rpm_across_two_processes_and_each_door_s_429(served: Served) -> None:
    a, b = (g.base_url for g in served.gateways)
    bearer = {"Authorization": "Bearer " + served.secrets["rpm"]}
    await not_near_a_minute_end()
    async with aiohttp.ClientSession() as http:
        statuses = [
            (await post(http, base + "/v1/chat/completions", chat_body("hi"), bearer))[0]
            for base in (a, b, a)
        ]
        assert statuses == [200, 200, 200]
        status, headers, body = await post(http, b + "/v1/chat/completions", chat_body("hi"), bearer)
        expected_wait = 60 - time.time() % 60
        assert status == 429
        assert abs(int(headers["Retry-After"]) - expected_wait) <= 1.5
        assert body == {
            "error": {
                "message": RPM_MESSAGE,
                "type": "rate_limit_exceeded",
                "param": None,
                "code": "rpm_limit_exceeded",
            }
        }
        anthropic = {"x-api-key": served.secrets["rpm"], "anthropic-version": "2023-06-01"}
        message = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "hi"}],
        }
        status, headers, body = await post(http, a + "/v1/messages", message, anthropic)
        assert (status, "Retry-After" in headers) == (429, True)
        assert body.pop("request_id").startswith("req_")
        assert body == {"type": "error", "error": {"type": "rate_limit_error", "message": RPM_MESSAGE}}
        gemini = {"x-goog-api-key": served.secrets["rpm"]}
        content = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
        status, headers, body = await post(
            http, b + "/v1beta/models/gemini-2.5-pro:generateContent", content, gemini
        )
        assert (status, "Retry-After" in headers) == (429, True)
        delay = f"{headers['Retry-After']}s"
        assert body == {
            "error": {
                "code": 429,
                "message": RPM_MESSAGE,
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "RPM_LIMIT_EXCEEDED",
                        "domain": "gptgate",
                    },
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
                ],
            }
        }


async def test_concurrency_is_refused_while_a_stream_is_open_on_the_other_process(served: Served) -> None:
    a, b = (g.base_url for g in served.gateways)
    bearer = {"Authorization": "Bearer " + served.secrets["conc"]}
    async with aiohttp.ClientSession() as http:
        held = asyncio.ensure_future(
            post(http, a + "/v1/chat/completions", chat_body("slow [[sim:slow_first_byte ms=3000]]"), bearer)
        )
        await asyncio.sleep(1.0)
        status, headers, body = await post(http, b + "/v1/chat/completions", chat_body("second"), bearer)
        assert (status, headers["Retry-After"]) == (429, "1")
        assert body["error"]["message"] == CONCURRENCY_MESSAGE
        assert body["error"]["code"] == "concurrency_limit_exceeded"
        assert (await held)[0] == 200
        status, _, _ = await post(http, b + "/v1/chat/completions", chat_body("after"), bearer)
        assert status == 200


async def test_a_revoked_key_is_refused_within_reload_seconds(served: Served) -> None:
    a = served.gateways[0].base_url
    bearer = {"Authorization": "Bearer " + served.secrets["conc"]}
    async with aiohttp.ClientSession() as http:
        assert (await post(http, a + "/v1/chat/completions", chat_body("hi"), bearer))[0] == 200
        served.store.keys.revoke(served.store.keys.get("conc").id)
        revoked_at = time.monotonic()
        while True:
            status, _, body = await post(http, a + "/v1/chat/completions", chat_body("hi"), bearer)
            if status == 401:
                break
            assert time.monotonic() - revoked_at < 3.0, "still served 3 s after the revocation"
            await asyncio.sleep(0.1)
        assert body["error"]["code"] == "revoked_api_key"
        assert body["error"]["message"].startswith("This API key (gg-") and body["error"]["message"].endswith(
            "...) was revoked."
        )
        assert (await post(http, a + "/v1/chat/completions", chat_body("hi"), {}))[0] == 401
