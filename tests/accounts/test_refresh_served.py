"""Token refresh through a real gateway, store and simulator: single flight, dead grants, outages."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.state import Fault
from gptgate.simulator.tokens import make_access_token
from gptgate.storage import AccountRecord
from tests.accounts.served import add_expired, chat, gateway_env, open_test_store, refresh_calls
from tests.support import start_gateway


async def test_a_hundred_requests_on_an_expired_token_cause_one_refresh(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    simulator.state.auth_delay_ms = 300  # concurrent requests overlap the refresh
    store = open_test_store(url)
    record = add_expired(store, creds)
    served = await start_gateway(simulator.base_url, [], **gateway_env(simulator, url))
    try:
        async with aiohttp.ClientSession() as http:
            results = await asyncio.gather(*(chat(http, served.base_url, f"q{i}") for i in range(100)))
        assert [status for status, _ in results] == [200] * 100
        assert refresh_calls(simulator, creds.account_id) == 1
        stored = store.get(record.id)
        assert stored is not None and stored.token_version == 1
        assert stored.refresh_token != creds.refresh_token and stored.expires_at > time.time()  # type: ignore[operator]
    finally:
        await served.close()
        store.close()


async def test_a_refused_refresh_marks_the_account_for_relogin_once(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    simulator.state.logins.revoke(account_id=creds.account_id, code="refresh_token_invalidated")
    store = open_test_store(url)
    record = add_expired(store, creds)
    served = await start_gateway(simulator.base_url, [], **gateway_env(simulator, url))
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(5):
                status, body = await chat(http, served.base_url, "hi")
                assert status == 503 and body["error"]["code"] == "no_usable_account"
                assert "needs relogin" in body["error"]["message"]
        assert refresh_calls(simulator, creds.account_id) == 1  # never retried in a loop
        stored = store.get(record.id)
        assert stored is not None and stored.status == "needs_relogin"
        assert "refresh refused" in (stored.status_reason or "")
    finally:
        await served.close()
        store.close()


async def test_a_token_endpoint_outage_is_not_a_dead_grant(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    simulator.state.auth_outage = Fault("unavailable")
    store = open_test_store(url)
    record = add_expired(store, creds)
    served = await start_gateway(simulator.base_url, [], **gateway_env(simulator, url))
    try:
        async with aiohttp.ClientSession() as http:
            status, body = await chat(http, served.base_url, "hi")
            assert status == 503 and body["error"]["code"] == "accounts_unavailable"
            assert "usable" not in body["error"]["message"]
            stored = store.get(record.id)
            assert stored is not None and stored.status == "active"
            simulator.state.auth_outage = None
            assert served.gateway is not None
            await served.gateway.state.clear_cooldown(record.id)
            status, _ = await chat(http, served.base_url, "hi again")
            assert status == 200
    finally:
        await served.close()
        store.close()


async def test_a_401_on_a_live_token_refreshes_once_and_retries(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    store = open_test_store(url)
    forged = make_access_token(creds.account_id, exp=int(time.time()) + 3600) + "x"  # bad signature
    store.add(
        AccountRecord(
            name="seat", account_id=creds.account_id, access_token=forged, refresh_token=creds.refresh_token
        )
    )
    served = await start_gateway(simulator.base_url, [], **gateway_env(simulator, url))
    try:
        async with aiohttp.ClientSession() as http:
            status, body = await chat(http, served.base_url, "hi")
        assert status == 200, body
        assert refresh_calls(simulator, creds.account_id) == 1
    finally:
        await served.close()
        store.close()


async def test_a_deactivated_account_is_disabled_and_the_request_moves_on(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    first, second = simulator.state.seed_accounts(2)
    simulator.state.logins.set_deactivated(first.account_id, True)
    store = open_test_store(url)
    for n, creds in enumerate((first, second)):
        store.add(
            AccountRecord(
                name=f"seat-{n}",
                account_id=creds.account_id,
                access_token=creds.access_token,
                refresh_token=creds.refresh_token,
            )
        )
    served = await start_gateway(simulator.base_url, [], **gateway_env(simulator, url))
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(4):
                status, body = await chat(http, served.base_url, "hi")
                assert status == 200, body
        statuses = {r.account_id: r.status for r in store.list()}
        assert statuses == {first.account_id: "deactivated", second.account_id: "active"}
    finally:
        await served.close()
        store.close()


async def test_an_account_added_by_session_token_gets_its_access_token(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    store = open_test_store(url)
    record = store.add(
        AccountRecord(name="web", account_id=creds.account_id, session_token=creds.session_token)
    )
    served = await start_gateway(
        simulator.base_url, [], **gateway_env(simulator, url, session_base_url=simulator.base_url)
    )
    try:
        async with aiohttp.ClientSession() as http:
            for n in range(3):
                status, body = await chat(http, served.base_url, f"q{n}")
                assert status == 200, body
        stored = store.get(record.id)
        assert stored is not None and stored.access_token and stored.token_version == 1
        assert simulator.state.logins.stats()["session"][creds.account_id]["calls"] == 1
    finally:
        await served.close()
        store.close()
