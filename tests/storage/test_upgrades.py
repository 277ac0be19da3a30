"""Migrations from every released schema version (issue 13): a store left at any earlier revision,
holding an account with sealed tokens and its proxy as that revision kept it (in clear before 0005,
sealed since), upgrades to the newest schema with its data intact and readable, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gptgate.storage import Store, TokenCipher, open_store
from gptgate.storage.sql import SqlStore
from tests.storage.test_migrations import revisions
from tests.storage.test_sealed_proxy import PROXY, upgrade_to

RELEASED = revisions()[:-1]


def seed_old_account(store: Store, cipher: TokenCipher, released: str = "0001") -> None:
    """One account row as revision ``released`` holds it (only 0001's columns)."""
    assert isinstance(store, SqlStore)
    sealed = {f: cipher.encrypt(f"{f}-value", f"acc1/{f}") for f in ("access_token", "refresh_token")}
    proxy = cipher.encrypt(PROXY, "acc1/proxy") if released >= "0005" else PROXY
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO accounts (id, name, account_id, email, access_token, refresh_token,"
                " status, proxy, quota, token_version, created_at, updated_at)"
                " VALUES ('acc1', 'old-seat', 'ws-1', 'old@example.com', :access, :refresh, 'active',"
                " :proxy, '{}', 3, 1, 2)"
            ),
            {"access": sealed["access_token"], "refresh": sealed["refresh_token"], "proxy": proxy},
        )


@pytest.mark.parametrize("released", RELEASED)
def test_a_store_of_every_released_version_upgrades_with_its_data(
    released: str, store_url: str, cipher: TokenCipher
) -> None:
    store = open_store(store_url, cipher)
    try:
        upgrade_to(store, released, cipher)
        seed_old_account(store, cipher, released)
        store.migrate()
        got = store.get("old-seat")
        assert got is not None
        assert (got.account_id, got.email, got.token_version) == ("ws-1", "old@example.com", 3)
        assert (got.access_token, got.refresh_token) == ("access_token-value", "refresh_token-value")
        assert got.proxy == PROXY and got.upstreams is None and got.status == "active"
        assert store.version() >= 0  # the change counter (0002) exists
        assert isinstance(store, SqlStore)
        with store.engine.connect() as conn:
            raw = conn.execute(sa.text("SELECT proxy FROM accounts")).scalar_one()
        assert "s3cret" not in raw
    finally:
        store.close()


def test_the_released_versions_are_every_revision_before_the_newest() -> None:
    assert [f"{i:04d}" for i in range(1, len(RELEASED) + 1)] == RELEASED
    assert len(RELEASED) >= 4
