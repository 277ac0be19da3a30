"""``gptgate store backup`` / ``restore`` (issue 13): a consistent copy of a live SQLite store while
a writer keeps committing, restored into another data directory with the same key; a backup of
every released schema version restored and migrated; the refusals; the PostgreSQL path."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gptgate.cli import main
from gptgate.storage import AccountRecord, Store, TokenCipher, key_from_text, open_store
from tests.storage.test_sealed_proxy import PROXY, upgrade_to
from tests.storage.test_upgrades import RELEASED, seed_old_account

KEY = "backup-test-secret-key"


def run(*args: str, data_dir: Path, key: str = KEY) -> Result:
    env = {"GPTGATE_SECRET_KEY": key}
    return CliRunner().invoke(main, ["store", "--data-dir", str(data_dir), *args], env=env)


def open_dir(data_dir: Path) -> Store:
    data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{data_dir / 'gptgate.db'}", TokenCipher(key_from_text(KEY)))
    store.migrate()
    return store


def test_an_online_backup_is_one_committed_state_and_restores_elsewhere(tmp_path: Path) -> None:
    live = open_dir(tmp_path / "live")
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        n = 0
        while not stop.is_set() and n < 400:
            live.add(AccountRecord(name=f"seat-{n}", access_token=f"tok-{n}", proxy=PROXY))
            n += 1
            written.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        result = run("backup", str(tmp_path / "copy.db"), data_dir=tmp_path / "live")
    finally:
        stop.set()
        thread.join()
        live.close()
    assert result.exit_code == 0, result.output
    assert "keep the secret key" in result.output
    assert (tmp_path / "copy.db").stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count, changes = conn.execute(
            "SELECT (SELECT count(*) FROM accounts), (SELECT version FROM store_changes)"
        ).fetchone()
    assert 20 <= count <= len(written) and changes >= count  # one committed state
    result = run("restore", str(tmp_path / "copy.db"), data_dir=tmp_path / "other")
    assert result.exit_code == 0, result.output
    assert f"{count} account(s)" in result.output
    restored = open_dir(tmp_path / "other")
    try:
        assert {r.name for r in restored.list()} == {f"seat-{n}" for n in range(count)}
        assert all(r.proxy == PROXY and r.access_token for r in restored.list())
    finally:
        restored.close()


@pytest.mark.parametrize("released", RELEASED)
def test_a_backup_of_every_released_version_restores_and_migrates(released: str, tmp_path: Path) -> None:
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    cipher = TokenCipher(key_from_text(KEY))
    old = open_store(f"sqlite:///{old_dir / 'gptgate.db'}", cipher)
    upgrade_to(old, released, cipher)
    seed_old_account(old, cipher, released)
    old.close()
    assert run("backup", str(tmp_path / "old.db"), data_dir=old_dir).exit_code == 0
    result = run("restore", str(tmp_path / "old.db"), data_dir=tmp_path / "new")
    assert result.exit_code == 0, result.output
    assert "1 account(s), schema up to date" in result.output
    store = open_dir(tmp_path / "new")
    try:
        got = store.get("old-seat")
        assert got is not None and got.refresh_token == "refresh_token-value" and got.proxy == PROXY
    finally:
        store.close()


def test_restore_refuses_a_non_store_a_full_store_and_a_wrong_key(tmp_path: Path) -> None:
    live = open_dir(tmp_path / "live")
    live.add(AccountRecord(name="kept", access_token="tok"))
    live.close()
    assert run("backup", str(tmp_path / "b.db"), data_dir=tmp_path / "live").exit_code == 0
    (tmp_path / "junk.db").write_bytes(b"not a database")
    result = run("restore", str(tmp_path / "junk.db"), data_dir=tmp_path / "live")
    assert result.exit_code == 1 and "not a SQLite database" in result.output
    result = run("restore", str(tmp_path / "b.db"), data_dir=tmp_path / "live")
    assert result.exit_code == 1 and "pass --yes" in result.output
    assert run("restore", "--yes", str(tmp_path / "b.db"), data_dir=tmp_path / "live").exit_code == 0
    result = run("restore", str(tmp_path / "b.db"), data_dir=tmp_path / "fresh", key="another-key")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "key" in result.output.lower()


def test_postgresql_is_pointed_to_pg_dump(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["store", "--database-url", "postgresql://u@127.0.0.1:1/db", "backup", str(tmp_path / "x")],
        env={"GPTGATE_SECRET_KEY": KEY},
    )
    assert result.exit_code == 2
    assert "pg_dump --format=custom" in result.output and "pg_restore" in result.output
