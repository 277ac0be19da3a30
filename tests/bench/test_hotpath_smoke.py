"""The hot path's workbench works: ``bench/hotpath.py`` serves a gateway under cProfile and
counts the Python calls of a request, and its A/B reads a server's CPU per request.

Not a performance assertion: a few requests each, figures that only have to be plausible.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOTPATH = ROOT / "bench" / "hotpath.py"


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(HOTPATH), *args], capture_output=True, text=True, timeout=240, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_calls_counts_a_requests_python_calls() -> None:
    out = run("calls", "responses", "--n", "60")
    found = re.search(r"Python calls per request: (\d+)", out)
    assert found is not None, out
    assert 200 < int(found.group(1)) < 5000  # one 8-delta turn: hundreds of calls, not none
    assert "gptgate/" in out  # the top functions name the gateway's own code


def test_calls_counts_a_requests_bytecodes() -> None:
    """``--opcodes``: bytecodes per request by part; the gateway's own code is among them."""
    out = run("calls", "chat", "--opcodes", "--n", "40")
    found = re.search(r"bytecodes per request: ([\d,]+)", out)
    assert found is not None, out
    assert 2_000 < int(found.group(1).replace(",", "")) < 100_000
    assert re.search(r"^\s+[\d,]+  our Python$", out, re.M), out
    assert "gptgate/protocols/chat/" in out


def test_ab_reports_fixed_and_per_event_cpu() -> None:
    out = run("ab", "--rounds", "1", "--n", "40", "--no-yardstick")
    rows = [line.split() for line in out.splitlines() if line.startswith("head ")]
    assert [row[1] for row in rows] == ["chat", "responses"], out
    assert all(len(row) == 4 for row in rows)  # name, door, fixed µs, µs per event


def test_ab_serves_a_tree_with_parts_switched_off() -> None:
    """``+HOTPATH_ABLATE=...`` starts the tree through ``bench/ablate.py``; every stream still
    completes (a failed one is reported on stderr, and fails this test)."""
    tree = f"bare={ROOT / 'src'}+HOTPATH_ABLATE=auth,observers,session,pool,keepalive"
    argv = ["ab", "--rounds", "1", "--n", "40", "--no-yardstick", "--tree", tree]
    done = subprocess.run(
        [sys.executable, str(HOTPATH), *argv],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "failed streams" not in done.stderr, done.stderr[-2000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("bare ")]
    assert [row[1] for row in rows] == ["chat", "responses"], done.stdout


def test_ablate_refuses_a_part_it_does_not_know() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ablate.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOTPATH_ABLATE": "auth,limits", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0
    assert "unknown parts ['limits']" in done.stderr


@pytest.mark.parametrize(("ablate", "status"), [("", 401), ("auth", 200)])
def test_ablate_switches_a_part_off_in_the_served_gateway(ablate: str, status: int, tmp_path: Path) -> None:
    """With ``auth`` switched off a gateway that has an API key serves a request without one."""
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "HOTPATH_ABLATE": ablate,
        "GPTGATE_API_KEYS": '["sk-ablate-test"]',
        "GPTGATE_ACCOUNT_STORE": "false",
        "GPTGATE_ACCESS_TOKEN": "x",
        "GPTGATE_FETCH_UPSTREAM_MODELS": "false",
        "GPTGATE_CODEX_BASE_URL": "http://127.0.0.1:9/backend-api/codex",
    }
    argv = [sys.executable, str(ROOT / "bench" / "ablate.py"), "serve", "--host", "127.0.0.1"]
    server = subprocess.Popen([*argv, "--port", str(port)], env=env, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):  # bounded: 20 s
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.1)
        try:
            got = urllib.request.urlopen(base + "/v1/models", timeout=5).status
        except urllib.error.HTTPError as exc:
            got = exc.code
        assert got == status
    finally:
        server.terminate()
        server.wait(20)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
