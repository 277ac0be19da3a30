"""Builds deploy/docker/Dockerfile and runs it: the process runs as a non-root user, answers
/healthz, Docker's HEALTHCHECK turns healthy, and SIGTERM (docker stop) exits cleanly. Needs a
Docker daemon; where there is none (CI here: only the client is installed) it skips, saying so."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "gptgate:test"


def docker_daemon() -> str | None:
    """Why the test cannot run, or None when a daemon answers."""
    if shutil.which("docker") is None:
        return "no docker client installed"
    info = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True
    )
    if info.returncode != 0 or not info.stdout.strip():
        return "no Docker daemon reachable (docker info failed): the image build and run test needs one"
    return None


def docker(*args: str, timeout: float = 60) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def container() -> Iterator[str]:
    reason = docker_daemon()
    if reason is not None:
        pytest.skip(reason)
    docker("build", "-f", "deploy/docker/Dockerfile", "-t", IMAGE, str(ROOT), timeout=900)
    name = docker(
        "run", "-d", "-p", "127.0.0.1::8080",
        "-e", 'GPTGATE_API_KEYS=["sk-docker-test-0123456789"]',
        "-e", "GPTGATE_SECRET_KEY=docker-test-secret-key-0123456789",
        IMAGE,
    )  # fmt: skip
    try:
        yield name
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)


def test_image_runs_as_non_root_and_turns_healthy(container: str) -> None:
    assert docker("exec", container, "id", "-u") == "10001"
    port = docker("port", container, "8080/tcp").splitlines()[0].rsplit(":", 1)[1]
    deadline = time.monotonic() + 60
    health = ""
    while time.monotonic() < deadline and health != "healthy":
        time.sleep(1)
        health = json.loads(docker("inspect", "--format", "{{json .State.Health.Status}}", container))
    assert health == "healthy"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
        assert resp.read() == b'{"status":"ok"}'
    docker("stop", "--time", "40", container, timeout=60)
    assert docker("inspect", "--format", "{{.State.ExitCode}}", container) == "0"
