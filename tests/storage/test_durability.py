"""Writes survive kill -9 right after they return; processes share one SQLite file without "locked"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gptgate.storage import AccountRecord, Store, TokenCipher, key_from_text, open_store

ROOT = Path(__file__).resolve().parents[2]


def writer(url: str, key_text: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.storage.writer", url, *args],
        cwd=ROOT,
        env={**os.environ, "GPTGATE_TEST_KEY": key_text},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_rotated_refresh_token_survives_kill_9(store_url: str, store: Store, key_text: str) -> None:
    acc = store.add(AccountRecord(name="a", access_token="at-old", refresh_token="rt-old"))
    process = writer(store_url, key_text, "rotate", acc.id)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        _, err = process.communicate(timeout=30)
    assert line == "stored\n", err
    assert process.returncode == -signal.SIGKILL
    reopened = open_store(store_url, TokenCipher(key_from_text(key_text)))
    try:
        got = reopened.get(acc.id)
    finally:
        reopened.close()
    assert got is not None and got.refresh_token == "rt-rotated" and got.token_version == 1


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_two_processes_write_one_sqlite_file(store_url: str, store: Store, key_text: str) -> None:
    acc = store.add(AccountRecord(name="a", refresh_token="rt-0"))
    per_process = 150
    processes = [writer(store_url, key_text, "hammer", acc.id, str(per_process)) for _ in range(3)]
    results = [p.communicate(timeout=120) for p in processes]
    for p, (_, err) in zip(processes, results, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err
    won = sum(int(out) for out, _ in results)
    final = store.get(acc.id)
    assert final is not None and final.token_version == won
    assert won >= per_process  # each process wins at least when the others are not racing it
