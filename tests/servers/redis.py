"""A throwaway redis-server for tests: a temp directory, a free 127.0.0.1 port, gone at the end.

``RedisServer.start()`` runs ``redis-server`` with persistence off and waits until it answers
PING; ``stop()`` shuts it down and removes the directory; the server also dies with the test
process (parent-death signal), so none is ever left behind. Tests share one server and keep apart
by key prefix (``unique_prefix()``), the way two deployments on one Redis do.

Fixtures: ``redis_server`` (session) and ``redis_url``. Reuse them from any ``conftest.py`` with
``from tests.servers.redis import redis_server, redis_url``.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PR_SET_PDEATHSIG = 1
START_TIMEOUT_S = 10.0
START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique_prefix() -> str:
    """A key prefix no other test (or test run) uses."""
    return f"test-{uuid.uuid4().hex[:12]}:"


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class RedisServer:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="gptgate-redis-"))
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        for attempt in range(START_ATTEMPTS):
            self.port = free_port()
            self._spawn()
            try:
                self._wait_ready()
                return self
            except RuntimeError:
                self._kill()
                if attempt == START_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        log = open(self.root / "redis.log", "wb")  # noqa: SIM115 - the server owns it
        self._process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            preexec_fn=_die_with_parent,
        )
        log.close()

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.ping():
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = (self.root / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server did not start on port {self.port}: {log}")
            time.sleep(0.02)

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop(self) -> None:
        self._kill()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        pytest.fail("redis-server is not installed: run `bash scripts/services.sh`")
    server = RedisServer(binary)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the whole test session."""
    with running_redis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """``redis://127.0.0.1:<port>/0`` of the session's server (keep apart with ``unique_prefix()``)."""
    return redis_server.url
