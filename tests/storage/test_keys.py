"""Client keys in the store, on SQLite and PostgreSQL: hashed secrets, changes workers see, spend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gptgate.keys.model import KeyLimits, KeyRecord
from gptgate.storage import Store
from gptgate.storage.keys import DuplicateKey, KeyNotFound
from gptgate.storage.schema import api_keys

HASH = "a" * 64


def record(name: str = "ci", id_: str = "key_0123456789") -> KeyRecord:
    return KeyRecord(id=id_, name=name, prefix="gg-AbC123", limits=KeyLimits(rpm=60, models=("gpt-5*",)))


def test_add_get_list_and_only_the_hash_is_stored(store: Store) -> None:
    before = store.version()
    added = store.keys.add(record(), HASH)
    assert store.version() == before + 1
    assert (added.id, added.name, added.prefix, added.limits) == (
        "key_0123456789",
        "ci",
        "gg-AbC123",
        KeyLimits(rpm=60, models=("gpt-5*",)),
    )
    assert store.keys.get("ci") == added == store.keys.get("key_0123456789")
    assert store.keys.list() == [added]
    assert store.keys.ring() == [(HASH, added)]
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        row = conn.execute(sa.select(api_keys)).mappings().one()
    assert row["secret_hash"] == HASH
    assert row["limits"]["rpm"] == 60


def test_names_are_unique(store: Store) -> None:
    store.keys.add(record(), HASH)
    with pytest.raises(DuplicateKey, match="a key named 'ci' already exists"):
        store.keys.add(record(id_="key_aaaaaaaaaa"), "b" * 64)
    other = store.keys.add(record("other", "key_bbbbbbbbbb"), "c" * 64)
    with pytest.raises(DuplicateKey):
        store.keys.update(other.id, {"name": "ci"})


def test_update_revoke_rotate_each_bump_the_version(store: Store) -> None:
    store.keys.add(record(), HASH)
    v = store.version()
    updated = store.keys.update("key_0123456789", {"limits": KeyLimits(tpm=1000), "expires_at": 2e9})
    assert (updated.limits, updated.expires_at, store.version()) == (KeyLimits(tpm=1000), 2e9, v + 1)
    revoked = store.keys.revoke("key_0123456789", when=1700000000.0)
    assert (revoked.revoked_at, store.version()) == (1700000000.0, v + 2)
    rotated = store.keys.rotate("key_0123456789", "d" * 64, "gg-New456")
    assert (rotated.prefix, rotated.revoked_at) == ("gg-New456", 1700000000.0)
    assert store.keys.ring()[0][0] == "d" * 64
    assert store.version() == v + 3


def test_missing_keys_and_bad_fields(store: Store) -> None:
    assert store.keys.get("nope") is None
    with pytest.raises(KeyNotFound, match="no key 'key_missing000'"):
        store.keys.revoke("key_missing000")
    with pytest.raises(KeyNotFound):
        store.keys.update("key_missing000", {"note": "x"})
    with pytest.raises(ValueError, match="cannot change 'prefix'"):
        store.keys.update("key_missing000", {"prefix": "x"})


def test_touch_records_last_use_without_a_version_bump(store: Store) -> None:
    store.keys.add(record(), HASH)
    v = store.version()
    store.keys.touch({"key_0123456789": 1700000123.0})
    assert store.keys.get("ci").last_used_at == 1700000123.0  # type: ignore[union-attr]
    assert store.version() == v
