"""The deployment topology as real processes on one machine: the simulator (standing in for
ChatGPT), ``gptgate serve`` instances sharing PostgreSQL, Redis and one secret key, and nginx in
front with the shipped proxy settings (``deploy/nginx/gptgate-proxy.conf``).

Every process dies with the test process (parent-death signal) and listens on 127.0.0.1 only.
``Usage`` reads a process's CPU time and memory from ``/proc``, the figures the README reports.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson
import pytest

from gptgate.accounts.ops import import_text
from gptgate.storage import TokenCipher, key_from_text, open_store

ROOT = Path(__file__).resolve().parents[2]
PROXY_CONF = ROOT / "deploy" / "nginx" / "gptgate-proxy.conf"
PR_SET_PDEATHSIG = 1
START_TIMEOUT_S = 30.0
SECRET_KEY = "deploy-topology-shared-secret-key"
API_KEY = "sk-deploy-topology-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fixed_port() -> int:
    """A free port below the kernel's ephemeral range, for an instance that is restarted on the
    same port: a port from that range can be taken, between stop and start, as the local port of
    one of the thousands of connections the test opens, and the restart could not bind it."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(10_000, max(low, 10_001)), 200):
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind(("127.0.0.1", port))
            return port
    return free_port()


def _die_with_parent(sig: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)


def _dies_with_parent() -> None:
    _die_with_parent(signal.SIGKILL)


def _stops_with_parent() -> None:
    _die_with_parent(signal.SIGTERM)  # nginx's master stops its workers on TERM


def _drain(stream: IO[str], log: Path) -> None:
    """Keep reading a process's output (a full pipe would block it) into its log file."""
    with log.open("a") as out:
        for line in stream:
            out.write(line)
            out.flush()


def _wait_for_line(proc: subprocess.Popen[str], pattern: str, what: str, log: Path) -> re.Match[str]:
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen.append(line)
        if m := re.search(pattern, line):
            threading.Thread(target=_drain, args=(proc.stdout, log), daemon=True).start()
            return m
        if not line and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {''.join(seen)[-2000:]}")
    proc.kill()
    raise TimeoutError(f"{what} did not start")


@dataclass(frozen=True)
class Usage:
    """A process's CPU seconds (user + system) and memory (resident now and its peak), in bytes."""

    cpu_s: float
    rss: int
    peak_rss: int

    @classmethod
    def of(cls, pid: int) -> Usage:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
        )
        kib = 1024
        return cls(cpu, int(status["VmRSS"].split()[0]) * kib, int(status["VmHWM"].split()[0]) * kib)


@dataclass
class Simulator:
    proc: subprocess.Popen[str]
    base_url: str
    accounts_file: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def start_simulator(root: Path, *, interval_ms: float, accounts: int) -> Simulator:
    """``gptgate simulate`` in paced mode (one SSE record every ``interval_ms``) with seeded accounts."""
    accounts_file = root / "sim-accounts.json"
    args = ["--port", "0", "--mode", "paced", "--interval-ms", str(interval_ms), "--no-record"]
    args += ["--accounts", str(accounts), "--accounts-file", str(accounts_file)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gptgate", "simulate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_dies_with_parent,
    )
    assert proc.stdout is not None
    base = re.findall(r"listening on (http://\S+)", proc.stdout.readline())[0]
    _wait_for_line(proc, r"wrote \d+ accounts", "the simulator", root / "simulator.log")
    return Simulator(proc, base, accounts_file)


def seed_store(database_url: str, accounts_file: Path) -> int:
    """Migrate the shared store and import the simulator's accounts (the operator's import path,
    given the file's list of logins)."""
    store = open_store(database_url, TokenCipher(key_from_text(SECRET_KEY)))
    try:
        store.migrate()
        import_text(store, orjson.dumps(orjson.loads(accounts_file.read_bytes())["accounts"]).decode())
        return len(store.list())
    finally:
        store.close()


@dataclass
class Instance:
    """One ``gptgate serve`` on a fixed port (so it can be restarted where nginx expects it)."""

    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[str] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Instance:
        self.spawn()
        self.wait_ready()
        return self

    def spawn(self) -> None:
        """Start the process. Call it from the main thread: the parent-death signal follows the
        thread that forked, so a child spawned from a worker thread dies when that thread ends."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gptgate", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            preexec_fn=_dies_with_parent,
        )

    def wait_ready(self) -> None:
        """Block until it listens (any thread)."""
        assert self.proc is not None
        _wait_for_line(self.proc, r"listening on http://", f"gptgate on {self.address}", self.log)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def instance_env(
    simulator: Simulator, database_url: str, redis_url: str, redis_prefix: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GPTGATE_")}
    env.update(
        GPTGATE_DATABASE_URL=database_url,
        GPTGATE_SECRET_KEY=SECRET_KEY,
        GPTGATE_REDIS_URL=redis_url,
        GPTGATE_REDIS_PREFIX=redis_prefix,
        GPTGATE_API_KEYS=f'["{API_KEY}"]',
        GPTGATE_CODEX_BASE_URL=simulator.base_url + "/backend-api/codex",
        GPTGATE_OAUTH_TOKEN_URL=simulator.base_url + "/oauth/token",
        GPTGATE_SESSION_BASE_URL=simulator.base_url,
        GPTGATE_FETCH_UPSTREAM_MODELS="false",
        GPTGATE_USAGE_POLL_SECONDS="0",
        GPTGATE_SHUTDOWN_SECONDS="20",
        GPTGATE_LOG_LEVEL="warning",
    )
    return env


def find_nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        pytest.fail("nginx is not installed: run `bash scripts/services.sh`")
    return found


@dataclass
class Nginx:
    root: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    upstreams: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        """The balancer as deploy/compose/nginx.conf has it: round robin over the instances with
        ``max_fails=0`` (a failed instance is not marked down: open source nginx clears the mark
        only when a later request to it completes, which for a stream is seconds later, and
        meanwhile a retry finds "no live upstreams"; a dead instance refuses at once instead, and
        the request moves on), and the shipped proxy settings."""
        servers = "".join(f"    server {a} max_fails=0;\n" for a in self.upstreams)
        temp = "".join(
            f"  {kind}_temp_path {self.root}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        user = "user root root;\n" if os.geteuid() == 0 else ""
        return (
            f"{user}worker_processes 1;\ndaemon off;\npid {self.root}/nginx.pid;\n"
            f"error_log {self.root}/error.log warn;\n"
            "events { worker_connections 8192; }\n"
            "http {\n"
            f"  access_log off;\n{temp}"
            f"  upstream gptgate {{\n{servers}    keepalive 256;\n  }}\n"
            f"  server {{\n    listen 127.0.0.1:{self.port} backlog=4096;\n"
            "    location / {\n"
            f"      include {PROXY_CONF};\n"
            "      proxy_pass http://gptgate;\n"
            "      add_header X-Upstream $upstream_addr always;\n"
            "    }\n  }\n}\n"
        )

    def start(self) -> Nginx:
        binary = find_nginx()
        conf = self.root / "nginx.conf"
        conf.write_text(self.config())
        check = subprocess.run([binary, "-t", "-p", str(self.root), "-c", str(conf)], capture_output=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused its config: {check.stderr.decode()}")
        for _ in range(3):  # a free port can be taken between finding it and binding it
            self.proc = subprocess.Popen(
                [binary, "-p", str(self.root), "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=_stops_with_parent,
            )
            if self._wait_listening():
                return self
            self.port = free_port()
            conf.write_text(self.config())
        raise RuntimeError(f"nginx did not start: {(self.root / 'error.log').read_text()[-2000:]}")

    def _wait_listening(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + 10
        while self.proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
