"""Migrations are ordered, idempotent, safe to run concurrently, and produce exactly the metadata."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gptgate.storage import Store, TokenCipher, open_store
from gptgate.storage.schema import VERSION_TABLE, metadata
from gptgate.storage.sql import MIGRATIONS, SqlStore


def engine_of(store: Store) -> sa.Engine:
    assert isinstance(store, SqlStore)
    return store.engine


def revisions() -> list[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_revisions_are_numbered_in_order() -> None:
    names = sorted(p.name for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    numbers = [n.split("_", 1)[0] for n in names]
    assert numbers == [f"{i:04d}" for i in range(1, len(names) + 1)]
    assert revisions() == numbers  # each down_revision names the one before


def test_migrate_twice_is_a_no_op(store: Store) -> None:
    store.migrate()
    store.migrate()
    with engine_of(store).connect() as conn:
        versions = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    assert versions == [revisions()[-1]]


def test_migrated_schema_matches_the_metadata(store: Store) -> None:
    with engine_of(store).connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_concurrent_first_migrations(store_url: str, cipher: TokenCipher, tmp_path: Path) -> None:
    stores = [open_store(store_url, cipher) for _ in range(3)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def migrate(store: Store) -> None:
        barrier.wait()
        try:
            store.migrate()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert stores[0].list() == []
    finally:
        for s in stores:
            s.close()


def test_the_schema_check_sees_a_difference(store: Store) -> None:
    changed = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(changed)
    sa.Table("accounts", changed, sa.Column("note", sa.Text), extend_existing=True)
    with engine_of(store).connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        diff = compare_metadata(context, changed)
    assert [d[0] for d in diff] == ["add_column"]
