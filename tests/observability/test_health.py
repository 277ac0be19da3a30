"""/healthz and /readyz on a real gateway: ready with an account that can serve, 503 without."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import sqlalchemy as sa

from gptgate.accounts.model import Account
from gptgate.app import create_app
from gptgate.gateway import Gateway
from gptgate.observability.health import health_routes, store_reachable
from gptgate.observability.metrics import metrics_handler
from gptgate.settings import Settings
from gptgate.storage.connect import open_from_settings
from tests import support
from tests.support import serve_app

Get = Callable[[str], Awaitable[tuple[int, Any]]]


@pytest.fixture
async def served() -> AsyncIterator[Callable[[list[Account]], Awaitable[tuple[Gateway, Get]]]]:
    runners = []

    async def start(accounts: list[Account]) -> tuple[Gateway, Get]:
        settings = Settings(
            fetch_upstream_models=False, account_store=False, codex_base_url="http://127.0.0.1:9"
        )
        gateway = Gateway(settings, accounts)
        app = create_app(gateway)
        app.router.add_routes(health_routes())
        app.router.add_get("/metrics", metrics_handler)
        runner, base = await serve_app(app)
        runners.append(runner)

        async def get(path: str) -> tuple[int, Any]:
            async with aiohttp.ClientSession() as http, http.get(base + path) as resp:
                body = await resp.read()
                return resp.status, orjson.loads(body) if path != "/metrics" else body.decode()

        return gateway, get

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_healthz_answers_while_no_account_can_serve(served: Any) -> None:
    _, get = await served([])
    assert await get("/healthz") == (200, {"status": "ok"})


async def test_readyz_is_503_without_an_account(served: Any) -> None:
    _, get = await served([])
    status, body = await get("/readyz")
    assert status == 503
    assert body == {
        "status": "unavailable",
        "checks": {"store": "off", "accounts": "no account can serve now"},
        "accounts": {"active": 0, "cooling": 0, "disabled": 0, "needs_relogin": 0, "deactivated": 0},
    }


async def test_readyz_is_200_with_one_account(served: Any) -> None:
    _, get = await served([support.test_account()])
    status, body = await get("/readyz")
    assert status == 200
    assert body["status"] == "ready" and body["checks"] == {"store": "off", "accounts": "ok"}
    assert body["accounts"]["active"] == 1


async def test_readyz_counts_cooling_and_disabled_accounts_without_ids(served: Any) -> None:
    cooling, disabled = support.test_account("acct-cool"), support.test_account("acct-off")
    disabled.status = "disabled"
    gateway, get = await served([cooling, disabled])
    await gateway.state.set_cooldown(cooling.id, time.time() + 60, "usage_limit_reached")
    status, body = await get("/readyz")
    assert status == 503
    assert body["accounts"] == {
        "active": 0,
        "cooling": 1,
        "disabled": 1,
        "needs_relogin": 0,
        "deactivated": 0,
    }
    assert "acct-" not in orjson.dumps(body).decode()
    status, text = await get("/metrics")
    assert 'gptgate_accounts{state="cooling"} 1.0' in text.splitlines()
    assert 'gptgate_accounts{state="disabled"} 1.0' in text.splitlines()


async def test_the_store_probe(tmp_path: Path) -> None:
    store = open_from_settings(Settings(data_dir=tmp_path, secret_key="k" * 32))
    try:
        assert await store_reachable(store)
    finally:
        store.close()

    class Broken:
        engine = sa.create_engine("postgresql+psycopg://nobody:x@127.0.0.1:9/none")

    assert not await store_reachable(Broken())
