"""Refresh across gateway processes: one refresh for two processes sharing Redis; kill -9 mid-refresh."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from gptgate.simulator.server import RunningSimulator
from gptgate.storage import Store
from tests.accounts.served import (
    SECRET,
    GatewayProcess,
    add_expired,
    chat,
    open_test_store,
    refresh_calls,
    start_gateway_process,
)


async def start(simulator: RunningSimulator, tmp: Path, **settings: str) -> GatewayProcess:
    return await asyncio.to_thread(
        start_gateway_process,
        simulator,
        tmp,
        secret_key=SECRET,
        oauth_token_url=simulator.base_url + "/oauth/token",
        **settings,
    )


async def test_two_processes_sharing_redis_refresh_an_expired_account_once(
    simulator: RunningSimulator, tmp_path: Path, redis_url: str
) -> None:
    database = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    simulator.state.auth_delay_ms = 500
    store = open_test_store(database)
    add_expired(store, creds)
    gateways = [
        await start(simulator, tmp_path, database_url=database, redis_url=redis_url, redis_prefix="t2p:")
        for _ in range(2)
    ]
    try:
        async with aiohttp.ClientSession() as http:
            results = await asyncio.wait_for(
                asyncio.gather(*(chat(http, gateways[i % 2].base_url, f"q{i}") for i in range(100))), 60
            )
        assert [status for status, _ in results] == [200] * 100
        assert refresh_calls(simulator, creds.account_id) == 1
    finally:
        for gateway in gateways:
            gateway.stop()
        store.close()


@pytest.mark.parametrize("moment", ["token call in flight", "rotated token just stored"])
async def test_kill_9_during_a_refresh_loses_no_rotated_token(
    simulator: RunningSimulator, tmp_path: Path, moment: str
) -> None:
    database = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    store = open_test_store(database)
    record = add_expired(store, creds)
    simulator.state.auth_delay_ms = 1500 if moment == "token call in flight" else 0
    first = await start(simulator, tmp_path, database_url=database)
    try:
        async with aiohttp.ClientSession() as http:
            pending = asyncio.ensure_future(chat(http, first.base_url, "hi"))
            for _ in range(2000):  # at most ~10 s
                if moment == "token call in flight":
                    if refresh_calls(simulator, creds.account_id):
                        break
                elif await asyncio.to_thread(version, store, record.id) > 0:
                    break
                await asyncio.sleep(0.005)
            assert refresh_calls(simulator, creds.account_id) == 1
            first.kill()
            await asyncio.gather(pending, return_exceptions=True)
    finally:
        first.kill()
    simulator.state.auth_delay_ms = 0
    second = await start(simulator, tmp_path, database_url=database)
    try:
        async with aiohttp.ClientSession() as http:
            for n in range(3):
                status, body = await chat(http, second.base_url, f"after restart {n}")
                assert status == 200, body
        stored = store.get(record.id)
        assert stored is not None and stored.status == "active" and stored.token_version >= 1
        assert refresh_calls(simulator, creds.account_id) <= 2  # at most the one cut short, then one
    finally:
        second.stop()
        store.close()


def version(store: Store, account_id: str) -> int:
    record = store.get(account_id)
    return record.token_version if record is not None else -1


async def test_two_processes_without_redis_never_lose_the_account(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    simulator.state.auth_delay_ms = 300
    store = open_test_store(database)
    record = add_expired(store, creds)
    gateways = [await start(simulator, tmp_path, database_url=database) for _ in range(2)]
    try:
        async with aiohttp.ClientSession() as http:
            results = await asyncio.wait_for(
                asyncio.gather(*(chat(http, gateways[i % 2].base_url, f"q{i}") for i in range(40))), 60
            )
        assert [status for status, _ in results] == [200] * 40
        stored = store.get(record.id)
        assert stored is not None and stored.status == "active"
        assert refresh_calls(simulator, creds.account_id) <= 2  # one per process at most
    finally:
        for gateway in gateways:
            gateway.stop()
        store.close()
