"""The store scan finds a token, key or planted secret stored in clear, in any table and column of
a SQLite file or a PostgreSQL database, and passes a real store whose tokens are sealed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gptgate.simulator.tokens import make_access_token
from gptgate.storage import AccountRecord, TokenCipher, generate_key, key_from_text, open_store
from tests.observability.answerscan import Planted
from tests.observability.storescan import StoreHit, StoreReport, scan_postgres, scan_sqlite, sqlite_files
from tests.servers.postgres import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]

JWT = make_access_token("acct-store-0001", plan="plus")
REFRESH = "rt_" + "S" * 40
SESSION = "opaque-session-token-0123456789abcdef"
KEY = "gg-" + "K1b2C3d4E5" * 4


@pytest.fixture
def planted_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory for stores with a planted secret, emptied after the test (else the session's
    scan of every store left behind would find the plant and fail the run)."""
    try:
        yield tmp_path
    finally:
        for path in tmp_path.iterdir():
            path.unlink()


def stored_account(url: str) -> None:
    """A real store with one account, its tokens and proxy password sealed, and a key."""
    store = open_store(url, TokenCipher(key_from_text(generate_key())))
    try:
        store.migrate()
        store.add(
            AccountRecord(
                name="a",
                access_token=JWT,
                refresh_token=REFRESH,
                session_token=SESSION,
                proxy="http://user:proxy-password-123@127.0.0.1:3128",
            )
        )
    finally:
        store.close()


def test_a_store_with_sealed_tokens_is_clean(tmp_path: Path) -> None:
    path = tmp_path / "gptgate.db"
    stored_account(f"sqlite:///{path}")
    report = StoreReport()
    scan_sqlite(path, report, [Planted([SESSION, JWT])], label="gptgate.db")
    assert (report.databases, report.hits, report.unreadable) == (1, [], [])
    assert report.rows >= 1


def test_a_cleartext_token_in_a_store_column_is_a_hit_by_table_column_and_row(planted_dir: Path) -> None:
    path = planted_dir / "gptgate.db"
    stored_account(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE accounts SET access_token = ?, status_reason = ?", (JWT, f"see {SESSION}"))
    report = StoreReport()
    scan_sqlite(path, report, [Planted([SESSION])], label="gptgate.db")
    assert report.hits == [
        StoreHit("gptgate.db", "accounts", "access_token", 1, ("jwt",)),
        StoreHit("gptgate.db", "accounts", "status_reason", 1, ("planted",)),
    ]
    assert JWT not in report.hits[0].line() and SESSION not in report.hits[1].line()


def test_any_table_and_blob_is_read_and_key_prefixes_pass(planted_dir: Path) -> None:
    path = planted_dir / "odd-name.bin"  # found by its header, not its name
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id INTEGER, body BLOB, label TEXT)")
        db.execute("INSERT INTO notes VALUES (1, ?, 'gg-AbC123')", (b"x " + KEY.encode(),))
        db.execute("INSERT INTO notes VALUES (2, ?, ?)", (b"clean", REFRESH))
    (planted_dir / "not-a-db.txt").write_text("SQLite format 2")
    assert list(sqlite_files(planted_dir)) == [path]
    report = StoreReport()
    scan_sqlite(path, report, label="odd")
    assert [h.line() for h in report.hits] == [
        "odd notes.body row 1: gptgate_key",
        "odd notes.label row 2: refresh_token",
    ]


def test_a_postgres_store_is_scanned_too(postgres_url: str) -> None:
    stored_account(postgres_url)
    report = StoreReport()
    scan_postgres(postgres_url, report, [Planted([SESSION])])
    assert (report.databases, report.hits) == (1, [])
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE accounts SET refresh_token = %s", (REFRESH,))
    report = StoreReport()
    scan_postgres(postgres_url, report)
    store = "postgresql/" + postgres_url.rsplit("/", 1)[-1]
    assert report.hits == [StoreHit(store, "accounts", "refresh_token", 1, ("refresh_token",))]
    # the database is dropped after this test: the session's scan must not see the planted row
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE accounts SET refresh_token = NULL")


@pytest.mark.parametrize(
    ("version", "proxy", "hits"),
    [
        ("0004", "http://u:proxy-password@127.0.0.1:3128", []),
        ("0005", "http://u:proxy-password@127.0.0.1:3128", ["old accounts.proxy row 1: url_password"]),
        (None, "http://u:proxy-password@127.0.0.1:3128", ["old accounts.proxy row 1: url_password"]),
        ("0004", f"http://u:{REFRESH}@127.0.0.1:3128", ["old accounts.proxy row 1: refresh_token"]),
    ],
)
def test_a_proxy_password_in_clear_is_allowed_only_in_a_store_older_than_its_sealing(
    planted_dir: Path, version: str | None, proxy: str, hits: list[str]
) -> None:
    """``STORE_EXEMPT``: before migration 0005 proxies were stored in clear (that release's format)."""
    path = planted_dir / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE accounts (name TEXT, proxy TEXT, status_reason TEXT)")
        db.execute("INSERT INTO accounts VALUES ('a', ?, NULL)", (proxy,))
        if version is not None:
            db.execute("CREATE TABLE gptgate_schema_version (version_num TEXT)")
            db.execute("INSERT INTO gptgate_schema_version VALUES (?)", (version,))
    report = StoreReport()
    scan_sqlite(path, report, label="old")
    assert [h.line() for h in report.hits] == hits
