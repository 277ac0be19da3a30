"""Backups of the store: a consistent online copy of SQLite, and the ``pg_dump`` path for PostgreSQL.

SQLite: ``backup`` uses SQLite's online backup API (``sqlite3.Connection.backup``), which copies a
consistent snapshot while gateways keep reading and writing (WAL mode: writers are not blocked;
a write that lands during the copy restarts it, so the copy is always one committed state). The
copy goes to a temporary file beside the target, mode 0600, and is renamed into place only when
complete: a crash never leaves half a backup under the target's name.

``restore`` checks that the file is a gptgate store (its schema version table) that SQLite finds
intact, then copies it into the configured database with the same API, so processes that hold
the database open see the restored content on their next read. The caller then migrates it (a
backup of any earlier schema version is brought up to date) and reads it with the current key.

The tokens inside stay sealed with the secret key: a backup without that key (``secret_key`` or
``secret.key`` in the data directory) cannot be read. Keep the two apart, and both.

PostgreSQL is backed up with its own tools (``PG_DUMP``): ``pg_dump`` takes a consistent snapshot
of a live database; ``pg_restore`` reloads it, and the next start migrates it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from gptgate.storage.base import StoreError
from gptgate.storage.schema import VERSION_TABLE

PG_DUMP = """\
PostgreSQL: back up with pg_dump (a consistent snapshot of the live database), restore with
pg_restore, then start gptgate (or run any gptgate accounts command) to migrate:

    pg_dump --format=custom --no-owner --file=gptgate.dump "$GPTGATE_DATABASE_URL"
    pg_restore --clean --if-exists --no-owner --dbname="$GPTGATE_DATABASE_URL" gptgate.dump

(use a postgresql:// URL without the +driver suffix). Keep the secret key with the dump: the
tokens inside are sealed with it."""


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (None for any other database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise StoreError("an in-memory SQLite store has nothing to back up")
    return Path(parsed.database)


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy the live store ``source`` to ``target`` consistently; the number of pages copied."""
    if not source.is_file():
        raise StoreError(f"no store at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        with (
            contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
            contextlib.closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(dst, pages=256)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
        check_backup(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return pages


def check_backup(path: Path) -> None:
    """``StoreError`` unless ``path`` is an intact SQLite file holding a gptgate store."""
    if not path.is_file():
        raise StoreError(f"no backup at {path}")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise StoreError(f"{path} is damaged (SQLite's integrity check failed)")
            found = conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name=?", (VERSION_TABLE,)
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a SQLite database ({exc})") from exc
    if found is None:
        raise StoreError(f"{path} is not a gptgate store (no {VERSION_TABLE} table)")


def restore_sqlite(backup: Path, target: Path) -> int:
    """Replace the store ``target`` with the backup's content (online); pages copied."""
    check_backup(backup)
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as src,
        contextlib.closing(sqlite3.connect(target, timeout=30)) as dst,
    ):
        src.backup(dst, pages=256)
        pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
    with contextlib.suppress(OSError):
        os.chmod(target, 0o600)
    return pages
