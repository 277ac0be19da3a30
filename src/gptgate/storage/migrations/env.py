"""Alembic environment: runs on the connection ``SqlStore.migrate`` passes in, inside its transaction."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from gptgate.storage.schema import VERSION_TABLE, metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("gptgate migrations run through SqlStore.migrate(), not the alembic command")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
