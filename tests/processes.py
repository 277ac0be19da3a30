"""``gptgate serve`` in a subprocess of its own (real sockets), for the tests that need one."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serve_process(*args: str, env: dict[str, str] | None = None, stop_timeout: float = 10) -> Iterator[str]:
    """``python -m gptgate serve ARGS`` on a free port (add ``--port 0`` in ``args``); its base URL
    (http or https) once it listens. Its log is read all along, so a full pipe never blocks it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gptgate", "serve", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    try:
        base = _wait_for_base(proc)
        threading.Thread(target=_drain, args=(proc,), daemon=True).start()
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=stop_timeout)


def _wait_for_base(proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 30
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if (m := re.search(r"listening on (https?://\S+)", line)) and "simulator" not in line:
            return m.group(1)
        if proc.poll() is not None:
            raise RuntimeError(f"gptgate exited: {proc.stderr.read()}")
    raise TimeoutError("gptgate serve did not start")


def _drain(proc: subprocess.Popen[str]) -> None:
    assert proc.stderr is not None
    for _ in proc.stderr:
        pass
