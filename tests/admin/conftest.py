"""A simulator and a ``gptgate serve`` process with an account store and the admin console."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gptgate.simulator.server import RunningSimulator, start_simulator

ADMIN_PASSWORD = "correct horse battery staple"
ADMIN_TOKEN = "admin-token-for-scripts-0123456789"
CLIENT_KEY = "sk-client-key-of-the-admin-tests"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base_url: str
    log: list[str]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def serve(simulator_url: str, tmp: Path, **settings: str) -> Served:
    """``gptgate serve --port 0`` against the simulator, configured through GPTGATE_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GPTGATE_")}
    env.update(
        GPTGATE_CODEX_BASE_URL=simulator_url + "/backend-api/codex",
        GPTGATE_OAUTH_TOKEN_URL=simulator_url + "/oauth/token",
        GPTGATE_FETCH_UPSTREAM_MODELS="false",
        GPTGATE_USAGE_POLL_SECONDS="0",
        GPTGATE_DATA_DIR=str(tmp),
        GPTGATE_SECRET_KEY="admin-tests-secret-key-0123456789",
        **{"GPTGATE_" + k.upper(): v for k, v in settings.items()},
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gptgate", "serve", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    assert proc.stderr is not None
    log: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        log.append(line)
        if m := re.search(r"listening on (http://\S+)", line):
            threading.Thread(target=_drain, args=(proc, log), daemon=True).start()
            return Served(proc, m.group(1), log)
        if proc.poll() is not None:
            raise RuntimeError("gptgate exited: " + "".join(log) + proc.stderr.read())
    os.killpg(proc.pid, signal.SIGKILL)
    raise TimeoutError("gptgate serve did not start")


def _drain(proc: subprocess.Popen[str], log: list[str]) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        if len(log) < 5000:
            log.append(line)


@pytest.fixture
async def simulator() -> AsyncIterator[RunningSimulator]:
    sim = await start_simulator()
    try:
        yield sim
    finally:
        await sim.close()


@pytest.fixture
def gateway(simulator: RunningSimulator, tmp_path: Path) -> Iterator[Served]:
    served = serve(
        simulator.base_url,
        tmp_path,
        admin_password=ADMIN_PASSWORD,
        admin_token=ADMIN_TOKEN,
        api_keys=f'["{CLIENT_KEY}"]',
        admin_lockout="3",
    )
    try:
        yield served
    finally:
        served.stop()
