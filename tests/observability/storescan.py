"""The suite-wide store scan: no token, key or planted secret in clear in any store the tests wrote.

Tokens and proxy passwords are sealed with the ``TokenCipher`` (``g1:<key id>:<base64url>``, see
``gptgate/storage/crypto.py``) and client keys are stored as their SHA-256: a sealed value is
the one place a token may be, so a cell that is exactly a sealed value is skipped and every
other text or blob cell of every table (SQLite is typed per value: whatever the column says) is
read with the same detectors as the answer scan (``answerscan.kinds_in``: the redaction
patterns, key display prefixes aside, and the exact secrets the session planted: the gateways'
account tokens and settings secrets, and the client keys they created).

* SQLite: at the end of the session, every SQLite file under pytest's base temporary directory
  (found by its header, whatever its name) is opened read-only and scanned;
* PostgreSQL: each test database is dropped right after its test (``tests/servers/postgres.py``),
  so :func:`watching_postgres` wraps ``PostgresServer.drop_database`` to scan a database just
  before it is dropped.

:data:`STORE_EXEMPT` lists, in one place, the cleartext a store may hold (an old release's
format). A hit fails the run, reported by store, table, column, row number and kind, never the
value.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gptgate.storage.schema import VERSION_TABLE
from tests.observability.answerscan import Planted, kinds_in

if TYPE_CHECKING:
    import pytest

SQLITE_HEADER = b"SQLite format 3\x00"
#: a whole sealed value: ``g1:<key id>:<base64url(nonce + ciphertext + tag)>``
SEALED = re.compile(r"g1:[0-9a-f]{8}:[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class StoreExempt:
    """Kinds of secret a column may hold in clear in a store older than a schema version."""

    table: str
    column: str
    kinds: frozenset[str]
    before: str  # the migration (revision) that sealed the column
    reason: str


#: Every cleartext secret a store may hold, in one place. Keep it short and each entry narrow.
STORE_EXEMPT: tuple[StoreExempt, ...] = (
    StoreExempt(
        "accounts",
        "proxy",
        frozenset({"url_password"}),
        "0005",
        "releases before migration 0005_sealed_proxy stored proxy URLs (with their password) in "
        "clear; the backup tests build such a store on purpose, and migrating it seals them",
    ),
)


@dataclass(frozen=True)
class StoreHit:
    store: str
    table: str
    column: str
    row: int
    kinds: tuple[str, ...]

    def line(self) -> str:
        return f"{self.store} {self.table}.{self.column} row {self.row}: {', '.join(self.kinds)}"


@dataclass
class StoreReport:
    databases: int = 0
    rows: int = 0
    hits: list[StoreHit] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def cell_text(value: Any) -> str | None:
    """The text of a cell worth reading (None for numbers and NULL)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list):  # PostgreSQL json/jsonb
        return json.dumps(value)
    return None


def cell_kinds(value: Any, planted: Collection[Planted] = ()) -> list[str]:
    text = cell_text(value)
    if not text or SEALED.fullmatch(text):
        return []
    return kinds_in(text, planted)


def allowed_kinds(table: str, column: str, version: str | None) -> frozenset[str]:
    """What :data:`STORE_EXEMPT` lets ``table.column`` hold in a store at schema ``version``."""
    allowed: frozenset[str] = frozenset()
    for exempt in STORE_EXEMPT:
        if (
            (exempt.table, exempt.column) == (table, column)
            and version is not None
            and version < exempt.before
        ):
            allowed |= exempt.kinds
    return allowed


def scan_rows(
    store: str,
    table: str,
    columns: list[str],
    rows: Iterable[tuple[Any, ...]],
    report: StoreReport,
    planted: Collection[Planted] = (),
    version: str | None = None,
) -> None:
    allowed = [allowed_kinds(table, column, version) for column in columns]
    for number, row in enumerate(rows, 1):
        report.rows += 1
        for column, value, exempt in zip(columns, row, allowed, strict=False):
            kinds = [k for k in cell_kinds(value, planted) if k not in exempt]
            if kinds:
                report.hits.append(StoreHit(store, table, column, number, tuple(kinds)))


def _version(rows: Iterable[tuple[Any, ...]]) -> str | None:
    """The store's schema version (``version_num`` of its migrations' table; None: it has none)."""
    versions = [str(r[0]) for r in rows]
    return max(versions) if versions else None


def scan_sqlite(path: Path, report: StoreReport, planted: Collection[Planted] = (), label: str = "") -> None:
    """Every table of the SQLite file at ``path`` (opened read-only)."""
    store = label or str(path)
    try:
        with contextlib.closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            version = None
            if VERSION_TABLE in tables:
                version = _version(db.execute(f"SELECT version_num FROM {VERSION_TABLE}"))
            for table in tables:
                cursor = db.execute(f'SELECT * FROM "{table.replace(chr(34), chr(34) * 2)}"')
                columns = [d[0] for d in cursor.description]
                scan_rows(store, table, columns, cursor, report, planted, version)
    except sqlite3.Error as exc:
        report.unreadable.append(f"{store}: {type(exc).__name__}")
        return
    report.databases += 1


def sqlite_files(root: Path) -> Iterator[Path]:
    """The SQLite databases under ``root``, known by their header."""
    for path in sorted(root.rglob("*")):
        if path.name.endswith(("-wal", "-shm", "-journal")) or not path.is_file():
            continue
        try:
            with path.open("rb") as handle:
                if handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER:
                    yield path
        except OSError:
            continue


def scan_postgres(url: str, report: StoreReport, planted: Collection[Planted] = ()) -> None:
    """Every table of every user schema of the PostgreSQL database at ``url``."""
    import psycopg
    from psycopg import sql

    store = "postgresql/" + url.rsplit("/", 1)[-1]
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            tables = conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = "
                "'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
            version = None
            for schema, table in tables:
                if table == VERSION_TABLE:
                    query = sql.SQL("SELECT version_num FROM {}.{}").format(
                        sql.Identifier(schema), sql.Identifier(VERSION_TABLE)
                    )
                    version = _version(conn.execute(query).fetchall())
            for schema, table in tables:
                cursor = conn.execute(
                    sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
                )
                columns = [d.name for d in cursor.description or ()]
                scan_rows(store, table, columns, cursor, report, planted, version)
    except psycopg.Error as exc:
        report.unreadable.append(f"{store}: {type(exc).__name__}")
        return
    report.databases += 1


@contextlib.contextmanager
def watching_postgres(report: StoreReport, planted: Collection[Planted]) -> Iterator[None]:
    """Scan each test database of ``tests/servers/postgres.py`` just before it is dropped."""
    try:
        from tests.servers.postgres import PostgresServer
    except ImportError:  # no psycopg: no PostgreSQL tests either
        yield
        return
    drop = PostgresServer.drop_database

    def drop_database(self: PostgresServer, url: str) -> None:
        scan_postgres(url, report, planted)
        drop(self, url)

    PostgresServer.drop_database = drop_database  # type: ignore[method-assign]
    try:
        yield
    finally:
        PostgresServer.drop_database = drop  # type: ignore[method-assign]


class ScanAtEnd:
    """A plugin whose ``pytest_sessionfinish`` scans the SQLite files left under ``root`` (and
    reports the PostgreSQL databases scanned along the way); any hit fails the run."""

    def __init__(self, root: Path, report: StoreReport, planted: Collection[Planted]) -> None:
        self.root = root
        self.report = report
        self.planted = planted

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        import pytest

        report = self.report
        for path in sqlite_files(self.root):
            scan_sqlite(path, report, self.planted, label=str(path.relative_to(self.root)))
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        unreadable = f" ({len(report.unreadable)} unreadable)" if report.unreadable else ""
        if not report.hits:
            if reporter is not None and report.databases:
                reporter.write_line(
                    f"store secrets scan: {report.databases} databases, {report.rows} rows, no secret{unreadable}"
                )
            return
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.write_line(
                f"store secrets scan FAILED: {len(report.hits)} cells with a secret in "
                f"{report.databases} databases, {report.rows} rows{unreadable}:"
            )
            for hit in report.hits[:50]:
                reporter.write_line(f"  {hit.line()}")
