"""Every outbound call made for an account leaves through that account's egress (issue 13): the
token refresh, the web session exchange, the usage poll and ``accounts test``, like its turns.
Also the scheduled (proactive) refresh, which had no test.

The account's proxy is a loopback HTTP forward proxy (``tests/upstreams/proxy_servers.py``)
that keeps every byte passed through it, so each test reads the request line it relayed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from gptgate.accounts import manager as manager_module
from gptgate.accounts import ops
from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.tokens import make_access_token
from gptgate.storage import AccountRecord, Store
from tests.accounts.served import add_expired, chat, gateway_env, open_test_store, refresh_calls
from tests.support import start_gateway
from tests.upstreams.proxy_servers import HttpProxy


@pytest.fixture
async def proxy() -> AsyncIterator[HttpProxy]:
    server = await HttpProxy().start()
    try:
        yield server
    finally:
        await server.close()


def _with_proxy(store: Store, record: AccountRecord, proxy: HttpProxy) -> AccountRecord:
    return store.set_proxy(record.id, proxy.url)


async def test_the_refresh_of_an_expired_token_leaves_through_the_accounts_proxy(
    simulator: RunningSimulator, proxy: HttpProxy, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    store = open_test_store(url)
    _with_proxy(store, add_expired(store, creds), proxy)
    served = await start_gateway(simulator.base_url, [], **gateway_env(simulator, url))
    try:
        async with aiohttp.ClientSession() as http:
            status, body = await chat(http, served.base_url, "hi")
        assert status == 200, body
        assert refresh_calls(simulator, creds.account_id) == 1
        assert b"POST " + simulator.base_url.encode() + b"/oauth/token" in proxy.seen
        assert b"/backend-api/codex/responses" in proxy.seen
    finally:
        await served.close()
        store.close()


async def test_the_session_exchange_leaves_through_the_accounts_proxy(
    simulator: RunningSimulator, proxy: HttpProxy, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    store = open_test_store(url)
    expired = make_access_token(creds.account_id, plan=creds.plan, exp=int(time.time()) - 60)
    record = store.add(
        AccountRecord(
            name="web",
            account_id=creds.account_id,
            access_token=expired,
            session_token=creds.session_token,
            expires_at=time.time() - 60,
            proxy=proxy.url,
        )
    )
    env = gateway_env(simulator, url, session_base_url=simulator.base_url)
    served = await start_gateway(simulator.base_url, [], **env)
    try:
        async with aiohttp.ClientSession() as http:
            status, body = await chat(http, served.base_url, "hi")
        assert status == 200, body
        assert b"GET " + simulator.base_url.encode() + b"/api/auth/session" in proxy.seen
        stored = store.get(record.id)
        assert stored is not None and stored.token_version == 1
    finally:
        await served.close()
        store.close()


async def test_accounts_test_reads_the_usage_through_the_accounts_proxy(
    simulator: RunningSimulator, proxy: HttpProxy, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    store = open_test_store(url)
    record = _with_proxy(store, add_expired(store, creds), proxy)
    served = await start_gateway(simulator.base_url, [], **gateway_env(simulator, url))
    try:
        assert served.gateway is not None
        outcome = await ops.test(served.gateway.accounts, record)
        assert outcome.ok, outcome.message
        assert b"/oauth/token" in proxy.seen  # refreshed first (expired), through the proxy
        assert b"GET " + simulator.base_url.encode() + b"/backend-api/wham/usage" in proxy.seen
    finally:
        await served.close()
        store.close()


async def test_the_scheduler_refreshes_a_token_before_it_expires_through_the_proxy(
    simulator: RunningSimulator, proxy: HttpProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manager_module, "SCHEDULE_INTERVAL", 0.2)
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    store = open_test_store(url)
    soon = int(time.time()) + 120  # inside refresh_before: due now; not yet expired
    record = store.add(
        AccountRecord(
            name="seat",
            account_id=creds.account_id,
            access_token=make_access_token(creds.account_id, plan=creds.plan, exp=soon),
            refresh_token=creds.refresh_token,
            expires_at=soon,
            proxy=proxy.url,
        )
    )
    env = gateway_env(simulator, url, refresh_before_seconds="600")
    served = await start_gateway(simulator.base_url, [], **env)
    try:
        deadline = time.monotonic() + 10
        while refresh_calls(simulator, creds.account_id) == 0:
            assert time.monotonic() < deadline, "no scheduled refresh"
            await asyncio.sleep(0.1)
        while (stored := store.get(record.id)) is not None and stored.token_version == 0:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        assert stored is not None and stored.expires_at is not None and stored.expires_at > soon
        assert stored.refresh_token != creds.refresh_token  # the rotation was stored
        assert b"/oauth/token" in proxy.seen
        assert refresh_calls(simulator, creds.account_id) == 1  # once, not once per tick
    finally:
        await served.close()
        store.close()
