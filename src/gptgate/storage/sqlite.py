"""The embedded backend: one SQLite file in WAL mode, shared safely by several processes.

Durability: every write runs in ``BEGIN IMMEDIATE`` (the write lock is taken up front, so a
second process waits on ``busy_timeout`` instead of failing with "database is locked" when it
would otherwise upgrade a read lock). Writes that must survive a power cut (tokens, new
accounts, status) commit with ``synchronous=FULL`` (the WAL is fsynced); the hot-path
bookkeeping (``touch``, quota snapshots) commits with ``synchronous=NORMAL``, which in WAL mode
survives a crash or ``kill -9`` of the process and can lose only the last such writes on power
loss. A FULL commit also makes every earlier NORMAL commit durable, since the WAL is one log.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_S = 30.0

#: execution option read by the ``begin`` hook: ("BEGIN" | "BEGIN IMMEDIATE", "FULL" | "NORMAL")
BEGIN_OPTION = "gptgate_sqlite_begin"


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def sqlite_engine(url: URL) -> Engine:
    database = url.database or ":memory:"
    memory = database == ":memory:"
    if not memory:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url.set(drivername="sqlite+pysqlite"),
        json_serializer=_dumps,
        json_deserializer=orjson.loads,
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        **({"poolclass": StaticPool} if memory else {}),
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN itself (pysqlite's implicit BEGIN is deferred
    # and skips DDL, which would make migrations non-transactional).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # the busy timeout first: switching a new file to WAL takes a lock that several processes
        # opening it at once contend for ("database is locked" at once without a timeout)
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        _wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _wal(cursor: Any) -> None:
    """Switch the file to WAL. The mode is the file's own, so only a new file switches; several
    processes opening a new file at once contend for the switch, and SQLite answers that with
    "database is locked" at once, without waiting on its busy handler: retried here, every 10 ms,
    until the busy timeout (a file already in WAL needs no switch and takes no write lock)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _on_begin(conn: Connection) -> None:
    begin, synchronous = conn.get_execution_options().get(BEGIN_OPTION, ("BEGIN", "FULL"))
    conn.exec_driver_sql(f"PRAGMA synchronous={synchronous}")
    conn.exec_driver_sql(begin)


def write_options(durable: bool) -> dict[str, Any]:
    """Execution options for a write transaction."""
    return {BEGIN_OPTION: ("BEGIN IMMEDIATE", "FULL" if durable else "NORMAL")}
