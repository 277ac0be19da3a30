"""An account's egress proxy carries a password: it is sealed at rest like the tokens (issue 13),
and migration 0005 seals the proxies stored in clear before it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from gptgate.storage import AccountRecord, Store, TokenCipher, open_store
from gptgate.storage.sql import MIGRATIONS, SqlStore

PROXY = "socks5://seat:pr0xy-s3cret@127.0.0.1:1080"


def raw_proxies(store: Store) -> list[str | None]:
    assert isinstance(store, SqlStore)
    with store.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT proxy FROM accounts ORDER BY name")).scalars())


def test_the_proxy_password_never_reaches_the_column(store: Store) -> None:
    added = store.add(AccountRecord(name="a", access_token="tok", proxy=PROXY))
    store.add(AccountRecord(name="b", access_token="tok"))
    changed = store.set_proxy(added.id, PROXY.replace("pr0xy", "n3w"))
    assert changed.proxy == PROXY.replace("pr0xy", "n3w")
    raw = raw_proxies(store)
    assert raw[1] is None
    assert raw[0] is not None and "s3cret" not in raw[0] and "seat" not in raw[0]
    assert raw[0].startswith("g1:")
    got = store.get("a")
    assert got is not None and got.proxy == PROXY.replace("pr0xy", "n3w")


def upgrade_to(store: Store, revision: str, cipher: TokenCipher | None = None) -> None:
    assert isinstance(store, SqlStore)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        config.attributes["cipher"] = cipher
        command.upgrade(config, revision)


def test_migration_0005_seals_the_proxies_stored_in_clear(store_url: str, cipher: TokenCipher) -> None:
    store = open_store(store_url, cipher)
    try:
        upgrade_to(store, "0004")
        assert isinstance(store, SqlStore)
        with store.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO accounts (id, name, status, proxy, quota, token_version, created_at,"
                    " updated_at) VALUES ('acc1', 'old', 'active', :proxy, '{}', 0, 1, 1)"
                ),
                {"proxy": PROXY},
            )
        store.migrate()
        raw = raw_proxies(store)
        assert raw[0] is not None and "s3cret" not in raw[0]
        got = store.get("old")
        assert got is not None and got.proxy == PROXY
    finally:
        store.close()
