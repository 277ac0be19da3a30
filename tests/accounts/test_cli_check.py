"""``gptgate accounts test`` and ``refresh`` against a simulator running on its own thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gptgate.cli import main
from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.server import RunningSimulator, start_simulator
from gptgate.simulator.tokens import make_access_token


@pytest.fixture
def simulator_thread() -> Iterator[RunningSimulator]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    sim = asyncio.run_coroutine_threadsafe(start_simulator(SimulatorConfig()), loop).result(10)
    try:
        yield sim
    finally:
        asyncio.run_coroutine_threadsafe(sim.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def run(sim: RunningSimulator, data: Path, *args: str) -> Result:
    env = {
        "GPTGATE_CODEX_BASE_URL": sim.base_url + "/backend-api/codex",
        "GPTGATE_OAUTH_TOKEN_URL": sim.base_url + "/oauth/token",
    }
    return CliRunner().invoke(
        main, ["accounts", "--data-dir", str(data), *args], env=env, catch_exceptions=False
    )


def test_test_and_refresh_commands(simulator_thread: RunningSimulator, tmp_path: Path) -> None:
    sim = simulator_thread
    alive, dead = sim.state.seed_accounts(2)
    sim.state.logins.revoke(account_id=dead.account_id, code="refresh_token_invalidated")
    expired = make_access_token(alive.account_id, exp=int(time.time()) - 60, email=alive.email)
    assert (
        run(
            sim,
            tmp_path,
            "add",
            "--name",
            "alive",
            "--access-token",
            expired,
            "--refresh-token",
            alive.refresh_token,
        ).exit_code
        == 0
    )
    stale = make_access_token(dead.account_id, exp=int(time.time()) - 60, email=dead.email)
    assert (
        run(
            sim,
            tmp_path,
            "add",
            "--name",
            "dead",
            "--access-token",
            stale,
            "--refresh-token",
            dead.refresh_token,
        ).exit_code
        == 0
    )

    result = run(sim, tmp_path, "test", "--all")
    lines = dict(line.split(": ", 1) for line in result.output.splitlines())
    assert result.exit_code == 1
    assert lines["alive"].startswith("ok, plan plus; 5h ") and "% used, resets in" in lines["alive"]
    assert lines["dead"].startswith("FAILED") and lines["dead"].endswith("-> now needs_relogin")
    for secret in (alive.refresh_token, dead.refresh_token, expired, stale):
        assert secret not in result.output

    listing = run(sim, tmp_path, "list").output.splitlines()
    assert [row.split()[3] for row in listing[1:]] == ["active", "needs_relogin"]

    result = run(sim, tmp_path, "refresh", "alive")
    assert result.exit_code == 0 and result.output.startswith("alive: refreshed, expires in ")
    result = run(sim, tmp_path, "refresh", "dead")
    assert result.exit_code == 1 and "needs_relogin" in result.output
    assert run(sim, tmp_path, "refresh").exit_code == 2  # neither a name nor --all
