"""One ``gptgate serve --demo`` subprocess (real sockets) shared by the SDK tests of a session."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def demo() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gptgate", "serve", "--demo", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        base = _wait_for_base(proc)
        # keep reading the log so a full pipe never blocks the server
        threading.Thread(target=_drain, args=(proc,), daemon=True).start()
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def _wait_for_base(proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 30
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if (m := re.search(r"listening on (http://\S+)", line)) and "simulator" not in line:
            return m.group(1)
        if proc.poll() is not None:
            raise RuntimeError(f"gptgate exited: {proc.stderr.read()}")
    raise TimeoutError("gptgate serve --demo did not start")


def _drain(proc: subprocess.Popen[str]) -> None:
    assert proc.stderr is not None
    for _ in proc.stderr:
        pass
