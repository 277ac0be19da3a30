"""The store's change counter: every committed change to accounts or keys bumps it, in the same
transaction, so a running worker learns of a change made by the CLI, the admin API or another
instance by reading one integer every few seconds (``Store.version``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gptgate.storage.schema import changes

STORE = "store"


def bump(conn: Connection) -> None:
    """Count one change (call inside the write's own transaction)."""
    conn.execute(changes.update().where(changes.c.name == STORE).values(version=changes.c.version + 1))


def read(conn: Connection) -> int:
    value = conn.execute(sa.select(changes.c.version).where(changes.c.name == STORE)).scalar_one_or_none()
    return int(value or 0)
