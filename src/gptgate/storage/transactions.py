"""How the store's writers open a transaction (one rule for every table's module)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine

from gptgate.storage import sqlite


@contextmanager
def write(engine: Engine, *, durable: bool = True) -> Iterator[Connection]:
    """One committed write transaction; on SQLite ``durable`` False skips the fsync (usage rows,
    quota snapshots: losing the last second of them to a power cut is acceptable)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.execution_options(**sqlite.write_options(durable))
        with conn.begin():
            yield conn
