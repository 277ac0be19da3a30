"""A throwaway PostgreSQL cluster for tests: a temp directory, a free 127.0.0.1 port, gone at the end.

``PostgresServer.start()`` runs ``initdb`` and ``postgres`` (as the ``postgres`` user when the
tests run as root, since postgres refuses root) with fsync off; ``new_database()`` hands each
test its own empty database. ``stop()`` shuts the server down fast and removes the directory; the
server also dies with the test process (parent-death signal), so none is ever left behind.

Fixtures: ``postgres_server`` (session) and ``postgres_url`` (a fresh database per test). Reuse
them from any ``conftest.py`` with ``from tests.servers.postgres import postgres_server, postgres_url``.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

PR_SET_PDEATHSIG = 1
START_TIMEOUT_S = 30.0


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian layout, else PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child after it dropped root (which clears the flag)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def sweep_stale(max_age_s: float = 600.0) -> None:
    """Remove clusters of earlier sessions that were killed (-9) before they could clean up."""
    for root in Path(tempfile.gettempdir()).glob("gptgate-pg-*"):
        try:
            if time.time() - root.stat().st_mtime < max_age_s:
                continue
            pid_file = root / "data" / "postmaster.pid"
            if pid_file.exists():
                os.kill(int(pid_file.read_text().split()[0]), 0)
                continue  # still running
        except ProcessLookupError:
            pass
        except (OSError, ValueError, IndexError):
            continue
        shutil.rmtree(root, ignore_errors=True)


class PostgresServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="gptgate-pg-"))
        self.port = 0
        self.user = "postgres"
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            self._as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        data = self.root / "data"
        initdb = [self.bindir / "initdb", "-D", data, "-U", self.user, "-A", "trust", "-E", "UTF8"]
        subprocess.run(
            [*initdb, "--no-locale", "--no-sync"], check=True, capture_output=True, cwd=self.root, **self._as
        )
        for _ in range(3):  # a free port can be taken between finding it and binding it
            self.port = free_port()
            if self._launch(data):
                return self
        raise RuntimeError(f"postgres did not start: {(self.root / 'postgres.log').read_text()[-2000:]}")

    def _launch(self, data: Path) -> bool:
        options = {
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": "100",
            "shared_buffers": "16MB",
        }
        args = [
            self.bindir / "postgres",
            "-D",
            data,
            "-p",
            str(self.port),
            "-h",
            "127.0.0.1",
            "-k",
            self.root,
        ]
        args += [a for k, v in options.items() for a in ("-c", f"{k}={v}")]
        with open(self.root / "postgres.log", "ab") as log:
            self._process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                preexec_fn=_die_with_parent,
                **self._as,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while self._process.poll() is None:
            try:
                psycopg.connect(self.dsn, connect_timeout=2).close()
                return True
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)
        return False

    def new_database(self) -> str:
        """A fresh empty database's URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown: disconnects clients
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    bindir = find_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL is not installed: run `bash scripts/services.sh`")
    sweep_stale()
    server = PostgresServer(bindir)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole test session."""
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """``postgresql://...`` of a fresh, empty database, dropped after the test."""
    url = postgres_server.new_database()
    try:
        yield url
    finally:
        postgres_server.drop_database(url)
