"""Helpers for the pool's served tests: a stored account with an expired token, gateway processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from gptgate.simulator.logins import Credentials
from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.tokens import make_access_token
from gptgate.storage import AccountRecord, Store, TokenCipher, key_from_text, open_store

SECRET = "test-secret-key-of-the-pool-tests"


def open_test_store(url: str) -> Store:
    store = open_store(url, TokenCipher(key_from_text(SECRET)))
    store.migrate()
    return store


def add_expired(store: Store, creds: Credentials, name: str = "seat-1") -> AccountRecord:
    """``creds``'s account with an access token that expired a minute ago (refresh token valid)."""
    expired = make_access_token(
        creds.account_id, plan=creds.plan, exp=int(time.time()) - 60, email=creds.email
    )
    return store.add(
        AccountRecord(
            name=name,
            account_id=creds.account_id,
            email=creds.email,
            plan=creds.plan,
            access_token=expired,
            refresh_token=creds.refresh_token,
            id_token=creds.id_token,
            expires_at=time.time() - 60,
        )
    )


def gateway_env(simulator: RunningSimulator, database_url: str, **extra: str) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "secret_key": SECRET,
        "account_store": True,
        "oauth_token_url": simulator.base_url + "/oauth/token",
        **extra,
    }


def refresh_calls(simulator: RunningSimulator, account_id: str) -> int:
    return int(simulator.state.logins.stats().get("refresh", {}).get(account_id, {}).get("calls", 0))


async def chat(http: aiohttp.ClientSession, base: str, text: str) -> tuple[int, Any]:
    body = {"model": "gpt-5.5", "messages": [{"role": "user", "content": text}]}
    async with http.post(base + "/v1/chat/completions", data=orjson.dumps(body)) as resp:
        return resp.status, orjson.loads(await resp.read())


@dataclass
class GatewayProcess:
    proc: subprocess.Popen[str]
    base_url: str

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_gateway_process(simulator: RunningSimulator, tmp: Path, **settings: str) -> GatewayProcess:
    """``gptgate serve`` in its own process group, configured through GPTGATE_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GPTGATE_") or k == "GPTGATE_LOG_FILE"}
    env.update(
        GPTGATE_CODEX_BASE_URL=simulator.base_url + "/backend-api/codex",
        GPTGATE_FETCH_UPSTREAM_MODELS="false",
        GPTGATE_DATA_DIR=str(tmp),
        **{"GPTGATE_" + k.upper(): v for k, v in settings.items()},
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gptgate", "serve", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if m := re.search(r"listening on (http://\S+)", line):
            return GatewayProcess(proc, m.group(1))
        if proc.poll() is not None:
            raise RuntimeError(f"gptgate exited: {proc.stderr.read()}")
    os.killpg(proc.pid, signal.SIGKILL)
    raise TimeoutError("gptgate serve did not start")
