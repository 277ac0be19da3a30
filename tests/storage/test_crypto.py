"""Tokens are encrypted at rest; a wrong key is named as such; the key file is private."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from gptgate.settings import Settings
from gptgate.storage import (
    AccountRecord,
    Store,
    StoreError,
    TokenCipher,
    WrongSecretKey,
    generate_key,
    key_from_text,
    load_or_create_key,
    open_from_settings,
    open_store,
)
from gptgate.storage.schema import accounts
from gptgate.storage.sql import SqlStore


def test_cipher_round_trip_is_bound_to_its_context() -> None:
    cipher = TokenCipher(key_from_text(generate_key()))
    sealed = cipher.encrypt("secret-token", "acc_1/refresh_token")
    assert "secret-token" not in sealed and sealed.startswith(f"g1:{cipher.key_id}:")
    assert cipher.encrypt("secret-token", "acc_1/refresh_token") != sealed  # fresh nonce
    assert cipher.decrypt(sealed, "acc_1/refresh_token") == "secret-token"
    with pytest.raises(WrongSecretKey):
        cipher.decrypt(sealed, "acc_2/refresh_token")  # moved to another row


def test_passphrase_keys() -> None:
    assert key_from_text("correct horse battery staple") == key_from_text("correct horse battery staple")
    assert len(key_from_text("correct horse battery staple")) == 32
    with pytest.raises(StoreError, match="too short"):
        key_from_text("short")


def test_tokens_are_not_stored_in_plaintext(store: Store) -> None:
    store.add(AccountRecord(name="a", access_token="AT-PLAIN", refresh_token="RT-PLAIN", session_token="ST"))
    assert isinstance(store, SqlStore)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(accounts)).mappings().one()
    raw = " ".join(str(v) for v in row.values())
    assert "AT-PLAIN" not in raw and "RT-PLAIN" not in raw
    assert all(row[c].startswith("g1:") for c in ("access_token", "refresh_token", "session_token"))
    assert row["id_token"] is None


def test_wrong_key_is_a_clear_error(store_url: str, store: Store) -> None:
    store.add(AccountRecord(name="a", access_token="AT", refresh_token="RT"))
    other = open_store(store_url, TokenCipher(key_from_text(generate_key())))
    try:
        for read in (other.list, lambda: other.get("a")):
            with pytest.raises(WrongSecretKey, match=r"cannot decrypt stored tokens: wrong secret_key\?"):
                read()
    finally:
        other.close()


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "secret.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create_key(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temporary left


def test_racing_processes_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    keys: list[bytes] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        keys.append(load_or_create_key(path))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1


def test_a_key_file_that_is_not_a_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not a key\n")
    os.close(fd)
    with pytest.raises(StoreError, match="does not hold a gptgate key"):
        load_or_create_key(path)


def test_open_from_settings_defaults_to_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = open_from_settings(settings)
    try:
        store.add(AccountRecord(name="a", refresh_token="RT"))
    finally:
        store.close()
    assert (tmp_path / "data" / "gptgate.db").exists()
    assert (tmp_path / "data" / "secret.key").exists()
    again = open_from_settings(Settings(data_dir=tmp_path / "data"))
    try:
        record = again.get("a")
        assert record is not None and record.refresh_token == "RT"
    finally:
        again.close()


def test_secret_key_setting_overrides_the_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    settings = Settings(data_dir=tmp_path, database_url=url, secret_key="a passphrase of some length")
    store = open_from_settings(settings)
    try:
        store.add(AccountRecord(name="a", refresh_token="RT"))
    finally:
        store.close()
    assert not (tmp_path / "secret.key").exists()
    wrong = open_from_settings(Settings(data_dir=tmp_path, database_url=url))  # falls back to a new key file
    try:
        with pytest.raises(WrongSecretKey):
            wrong.list()
    finally:
        wrong.close()
