"""Durability of rotated tokens (issue 13).

A refresh token rotates when spent; a crash between the auth server's answer and the store's
commit loses the rotation, and the stored token then answers ``refresh_token_reused``. That
window cannot be closed (the answer has to cross the network first), so a lost rotation is
recovered where the auth server allows it: by the account's web session. The size of the window
is measured by ``tests/accounts/kill_refresh.py`` (40 ``kill -9`` cycles; figures in the README).

Also: ``gptgate accounts import`` takes the file ``gptgate simulate --accounts-file`` writes.
"""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
from click.testing import CliRunner

from gptgate.accounts import ops
from gptgate.cli import main
from gptgate.settings import Settings
from gptgate.simulator.server import RunningSimulator, write_accounts
from gptgate.storage import AccountRecord, open_from_settings
from tests.accounts.served import add_expired, chat, gateway_env, open_test_store, refresh_calls
from tests.support import start_gateway


async def test_a_lost_rotation_is_revived_by_the_web_session(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    store = open_test_store(url)
    record = add_expired(store, creds)
    store.update_tokens(
        record.id,
        access_token=record.access_token,
        refresh_token=record.refresh_token,
        id_token=record.id_token,
        expires_at=record.expires_at,
        expected_version=0,
        session_token=creds.session_token,
    )
    # a process spent the stored refresh token and died before storing the rotation
    assert simulator.state.rotate_refresh_token(creds.refresh_token)[0] == "ok"
    env = gateway_env(simulator, url, session_base_url=simulator.base_url)
    served = await start_gateway(simulator.base_url, [], **env)
    try:
        async with aiohttp.ClientSession() as http:
            status, body = await chat(http, served.base_url, "hi")
        assert status == 200, body
        assert refresh_calls(simulator, creds.account_id) == 1  # reused, then the session
        stored = store.get(record.id)
        assert stored is not None and stored.status == "active"
        assert stored.refresh_token is None  # the dead one is not spent again
        assert stored.token_version == 2 and stored.access_token != record.access_token
    finally:
        await served.close()
        store.close()


def test_accounts_import_takes_the_simulators_accounts_file(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    simulator.state.seeded = simulator.state.seed_accounts(3)
    path = tmp_path / "accounts.json"
    write_accounts(simulator, path)
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(
        main, ["accounts", "--data-dir", str(data_dir), "import", str(path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "added 3," in result.output, result.output
    settings = Settings(data_dir=data_dir)
    store = open_from_settings(settings)
    try:
        records = store.list()
        assert sorted(r.account_id or "" for r in records) == sorted(
            c.account_id for c in simulator.state.seeded
        )
        assert all(r.refresh_token and r.session_token and r.access_token for r in records)
    finally:
        store.close()


async def test_a_lost_rotation_without_a_session_serves_on_until_its_access_token_expires(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/pool.db"
    creds = simulator.state.seed_accounts(1)[0]
    store = open_test_store(url)
    record = store.add(
        AccountRecord(
            name="seat",
            account_id=creds.account_id,
            access_token=creds.access_token,
            refresh_token=creds.refresh_token,
            expires_at=time.time() + 3600,
        )
    )
    assert simulator.state.rotate_refresh_token(creds.refresh_token)[0] == "ok"  # lost elsewhere
    served = await start_gateway(simulator.base_url, [], **gateway_env(simulator, url))
    try:
        assert served.gateway is not None
        manager = served.gateway.accounts
        outcome = await ops.refresh(manager, record)
        assert not outcome.ok and "sign in again" in outcome.message
        stored = store.get(record.id)
        assert stored is not None and stored.status == "active" and stored.refresh_token is None
        async with aiohttp.ClientSession() as http:
            status, body = await chat(http, served.base_url, "still served")
        assert status == 200, body
        outcome = await ops.refresh(manager, store.get(record.id))  # type: ignore[arg-type]
        assert refresh_calls(simulator, creds.account_id) == 1  # the dead token is not spent again
        account = manager.pool.get(record.id)
        assert account is not None
        account.expires_at = time.time() - 1  # its access token has now expired
        assert await manager.refresher.refresh(account) == "rejected"
        stored = store.get(record.id)
        assert stored is not None and stored.status == "needs_relogin"
    finally:
        await served.close()
        store.close()
