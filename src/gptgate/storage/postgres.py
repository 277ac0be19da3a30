"""The shared backend: PostgreSQL through psycopg 3.

Commits are durable when they return (``synchronous_commit`` on, the server default). Row
locks make the token compare-and-set safe: a second ``UPDATE ... WHERE token_version = :v``
waits for the first to commit, re-checks, and matches nothing. Migrations take an advisory
lock so that instances starting together migrate one after the other.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

#: pg_advisory_xact_lock key held while migrating ("gptgate" in ASCII, as an int).
MIGRATION_LOCK = 0x67707467617465


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def postgres_engine(url: URL) -> Engine:
    return sa.create_engine(
        url.set(drivername="postgresql+psycopg"),
        json_serializer=_dumps,
        json_deserializer=orjson.loads,
        pool_pre_ping=True,
    )


def lock_for_migration(conn: Connection) -> None:
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
