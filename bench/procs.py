"""Process control for the benchmark: start, wait for, measure (CPU, RSS) and stop process trees.

Every process is started in its own session (its own process group) and registered in a
``Procs`` registry; ``Procs.stop_all()`` (called from ``finally`` and on SIGTERM/SIGINT) sends
SIGTERM to each group, waits, then SIGKILLs what is left. CPU and memory are read from ``/proc``
for a process and all its descendants (the workers of a pre-fork server).
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm (field 2) may hold spaces: split after its closing parenthesis
    return raw[raw.rindex(")") + 2 :].split()


def tree_pids(root: int) -> list[int]:
    """``root`` and all its live descendants."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, ()))
    return found


def tree_cpu_seconds(root: int) -> float:
    """utime + stime (all threads) of ``root`` and its descendants, in seconds."""
    ticks = 0
    for pid in tree_pids(root):
        fields = _stat_fields(pid)
        if fields is not None:
            # after comm: state(0) ppid(1) ... utime(11) stime(12)
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def tree_rss_mb(root: int) -> float:
    """Sum of VmRSS over ``root`` and its descendants, in MiB."""
    total_kb = 0
    for pid in tree_pids(root):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
    return total_kb / 1024


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


@dataclass
class Proc:
    """One started process group."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu(self) -> float:
        return tree_cpu_seconds(self.pid)

    def rss_mb(self) -> float:
        return tree_rss_mb(self.pid)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Procs:
    """Registry of every process the benchmark started."""

    log_dir: Path
    procs: list[Proc] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        *,
        pipes: bool = False,
    ) -> Proc:
        """Start ``argv`` in a new session; stderr (and stdout unless ``pipes``) go to a log file.

        With ``pipes`` stdin and stdout are pipes (the load client's control channel).
        """
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env) if env is not None else None,
                stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
                stdout=subprocess.PIPE if pipes else log,
                stderr=log,
                start_new_session=True,
                preexec_fn=_raise_nofile,
            )
        proc = Proc(name, popen, log_path)
        self.procs.append(proc)
        return proc

    def stop(self, proc: Proc, timeout: float = 5.0) -> None:
        """SIGTERM the group, then SIGKILL it after ``timeout`` seconds."""
        if proc in self.procs:
            self.procs.remove(proc)
        pgid = proc.pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout)
        # workers may outlive their parent for a moment: always sweep the group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(2.0)
        for stream in (proc.popen.stdin, proc.popen.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def stop_all(self) -> None:
        for proc in list(reversed(self.procs)):
            self.stop(proc, timeout=3.0)


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def wait_http(url: str, proc: Proc, timeout: float = 20.0) -> None:
    """Poll ``url`` until it answers 2xx; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.log_tail()}")
        try:
            with OPENER.open(url, timeout=1.0) as resp:
                if 200 <= resp.status < 300:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = repr(exc)
        time.sleep(0.05)
    raise RuntimeError(f"{proc.name} not ready at {url} after {timeout}s ({last}):\n{proc.log_tail()}")


def wait_quiet(
    procs: Sequence[Proc], timeout: float = 15.0, window: float = 0.3, budget: float = 0.03
) -> None:
    """Wait until ``procs`` together use at most ``budget`` CPU seconds in ``window`` (e.g. every
    worker of a server has finished starting), or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(p.cpu() for p in procs)
        time.sleep(window)
        if sum(p.cpu() for p in procs) - before <= budget:
            return
