"""Measure refresh-token losses under ``kill -9`` (issue 13, durability): a bounded loop.

``python -m tests.accounts.kill_refresh [cycles] [accounts] [auth_delay_ms] [nosession]`` starts the
simulator in this process, stores its seeded accounts in a fresh SQLite store, then ``cycles``
times runs ``gptgate accounts refresh --all`` as a process and kills it with SIGKILL after a
random pause, then runs it once to its end (what can be recovered, is). Each stored refresh token is checked against the simulator's own
registry: a token the simulator already rotated (or killed) is a lost rotation (the account would
need a new login, unless a session token revives it), and so is an account the gateway marked
``needs_relogin``. Prints one JSON line: cycles, rotations the simulator made, tokens lost.

Not collected by pytest (no ``test_`` prefix); ``test_durability.py`` runs a short loop of it.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.server import RunningSimulator, start_simulator
from gptgate.storage import AccountRecord, Store
from tests.accounts.served import SECRET, open_test_store


@dataclass
class Tally:
    cycles: int
    accounts: int
    rotations: int
    #: accounts whose refresh the simulator refused as reused: a rotation a kill lost
    rotations_lost: int
    #: accounts left needing a new login at the end (after any recovery)
    lost: int
    revived_by_session: int
    #: accounts left serving on their access token until it expires (no session to revive them)
    serving_until_expiry: int
    seconds: float


def _seed(simulator: RunningSimulator, store: Store, count: int, sessions: bool = True) -> None:
    for n, creds in enumerate(simulator.state.seed_accounts(count), 1):
        store.add(
            AccountRecord(
                name=f"seat-{n}",
                account_id=creds.account_id,
                email=creds.email,
                plan=creds.plan,
                access_token=creds.access_token,
                refresh_token=creds.refresh_token,
                id_token=creds.id_token,
                session_token=creds.session_token if sessions else None,
                expires_at=time.time() + 3600,
            )
        )


def _env(simulator: RunningSimulator, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GPTGATE_")}
    env.update(
        GPTGATE_DATABASE_URL=url,
        GPTGATE_SECRET_KEY=SECRET,
        GPTGATE_OAUTH_TOKEN_URL=simulator.base_url + "/oauth/token",
        GPTGATE_SESSION_BASE_URL=simulator.base_url,
        GPTGATE_CODEX_BASE_URL=simulator.base_url + "/backend-api/codex",
    )
    return env


async def _one_cycle(env: dict[str, str], pause: float) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gptgate",
        "accounts",
        "refresh",
        "--all",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        await asyncio.wait_for(proc.wait(), pause)
    except TimeoutError:
        os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


def _lost(simulator: RunningSimulator, store: Store) -> tuple[int, int, int]:
    """(accounts that need a new login, revived by their session, serving until expiry)."""
    tokens = simulator.state.logins.refresh_tokens
    lost = revived = orphaned = 0
    for record in store.list():
        known = tokens.get(record.refresh_token or "")
        spent = known is None or known.rotated or known.dead_code is not None
        if record.status == "needs_relogin" or (spent and record.refresh_token):
            lost += 1
        elif record.refresh_token is None and record.session_token:
            revived += 1
        elif record.refresh_token is None:
            orphaned += 1
    return lost, revived, orphaned


async def measure(
    cycles: int, accounts: int, auth_delay_ms: float, seed: int = 13, sessions: bool = True
) -> Tally:
    rng = random.Random(seed)
    started = time.monotonic()
    simulator = await start_simulator(SimulatorConfig(auth_delay_ms=auth_delay_ms))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'kill.db'}"
        store = open_test_store(url)
        try:
            _seed(simulator, store, accounts, sessions)
            env = _env(simulator, url)
            for _ in range(cycles):
                await _one_cycle(env, rng.uniform(0.8, 2.5))
            await _one_cycle(env, 120.0)  # one run to its end: what can be recovered, is
            lost, revived, orphaned = _lost(simulator, store)
            stats = simulator.state.logins.stats().get("refresh", {})
            rotations = sum(int(c.get("ok", 0)) for c in stats.values())
            refused = sum(1 for c in stats.values() if c.get("rejected"))
        finally:
            store.close()
            await simulator.close()
    seconds = round(time.monotonic() - started, 1)
    return Tally(cycles, accounts, rotations, refused, lost, revived, orphaned, seconds)


def main() -> None:
    """``[cycles] [accounts] [auth_delay_ms] [nosession]``."""
    args = sys.argv[1:]
    cycles = int(args[0]) if args else 40
    accounts = int(args[1]) if len(args) > 1 else 40
    delay = float(args[2]) if len(args) > 2 else 20.0
    tally = asyncio.run(measure(cycles, accounts, delay, sessions="nosession" not in args))
    print(orjson.dumps(asdict(tally)).decode())


if __name__ == "__main__":
    main()
