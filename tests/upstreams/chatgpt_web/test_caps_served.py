"""Message caps on a served gateway: one (account, model) pair cools, not the account.

A raw web backend answers the first account's ``gpt-4o`` turns with chat2api's message-cap 429
(``detail.clears_in``) and everything else with a recorded stream; the second account serves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from gptgate.accounts.model import Account
from tests.support import RawHandler, Served, fixture_path, replay, start_gateway
from tests.support import test_account as make_account
from tests.upstreams.chatgpt_web.raw import start_raw_web_upstream

ADMIN_TOKEN = "admin-token-of-the-caps-test-0123456789"
CAP = b'{"detail": {"clears_in": 252, "code": "model_cap_exceeded", "message": "You have sent too many messages to the model. Please try again later."}}'


class Backend:
    """Counts turns per (token, model); caps the tokens in ``capped`` for ``gpt-4o``."""

    def __init__(self, capped: set[str]) -> None:
        self.capped = capped
        self.turns: Counter[tuple[str, str]] = Counter()
        self._ok = replay(fixture_path("web", "delta-v1-text.constructed.sse").read_bytes())
        self._cap = replay(CAP, 429, {"content-type": "application/json"})

    def handler(self) -> RawHandler:
        async def handle(request: web.Request) -> web.StreamResponse:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            model = str((await request.json()).get("model"))
            self.turns[(token, model)] += 1
            capped = token in self.capped and model == "gpt-4o"
            return await (self._cap if capped else self._ok)(request)

        return handle


@pytest.fixture
def accounts() -> list[Account]:
    return [make_account("acct-capped-0001"), make_account("acct-free-0002")]


@pytest.fixture
async def backend_and_gateway(accounts: list[Account]) -> AsyncIterator[tuple[Backend, Served]]:
    backend = Backend({accounts[0].access_token})
    upstream = await start_raw_web_upstream(backend.handler())
    gateway = await start_gateway(
        upstream.base_url, accounts, chatgpt_base_urls=[upstream.base_url], admin_token=ADMIN_TOKEN
    )
    try:
        yield backend, gateway
    finally:
        await gateway.close()
        await upstream.close()


async def chat(
    http: aiohttp.ClientSession, base: str, model: str, text: str = "hi"
) -> tuple[int, dict[str, str], Any]:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    async with http.post(base + "/v1/chat/completions", data=orjson.dumps(body)) as resp:
        return resp.status, dict(resp.headers), orjson.loads(await resp.read())


async def test_a_capped_model_moves_to_another_account_and_the_account_serves_others(
    backend_and_gateway: tuple[Backend, Served], accounts: list[Account]
) -> None:
    backend, gateway = backend_and_gateway
    capped, free = (a.access_token for a in accounts)
    async with aiohttp.ClientSession() as http:
        for _ in range(6):
            status, _, body = await chat(http, gateway.base_url, "gpt-4o")
            assert status == 200
            assert body["choices"][0]["message"]["content"] == "Hello there, how are you?"
        for i in range(4):  # four conversations (sessions), taken in turn
            assert (await chat(http, gateway.base_url, "o3", f"conversation {i}"))[0] == 200
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with http.get(gateway.base_url + "/admin/api/accounts", headers=headers) as resp:
            views = {v["id"]: v for v in orjson.loads(await resp.read())["accounts"]}
    assert backend.turns[(capped, "gpt-4o")] == 1  # asked once, then skipped for gpt-4o
    assert backend.turns[(free, "gpt-4o")] == 6
    assert backend.turns[(capped, "o3")] == 2 and backend.turns[(free, "o3")] == 2  # still both
    first, second = (views[a.id] for a in accounts)
    assert list(first["model_caps"]) == ["gpt-4o"] and second["model_caps"] == {}
    assert first["health"] == "ok" and first["cooldown_until"] is None  # the account is not cooling


async def test_every_account_capped_is_a_429_naming_the_model(accounts: list[Account]) -> None:
    backend = Backend({a.access_token for a in accounts})
    upstream = await start_raw_web_upstream(backend.handler())
    gateway = await start_gateway(upstream.base_url, accounts, chatgpt_base_urls=[upstream.base_url])
    try:
        async with aiohttp.ClientSession() as http:
            status, headers, body = await chat(http, gateway.base_url, "gpt-4o")
            again = await chat(http, gateway.base_url, "gpt-4o")
            other = await chat(http, gateway.base_url, "o3")
    finally:
        await gateway.close()
        await upstream.close()
    assert status == 429 and headers["Retry-After"] in ("251", "252")
    assert body["error"]["code"] == "model_cap_exceeded"
    assert body["error"]["message"].startswith(
        "every account (2) reached its message cap for the model gpt-4o;"
    )
    assert again[0] == 429 and again[2]["error"]["code"] == "model_cap_exceeded"
    assert sum(backend.turns.values()) == 3  # each account asked once; the repeat asked none
    assert other[0] == 200
