"""The tables as SQLAlchemy metadata: what the newest migration must produce (a test checks)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Alembic's bookkeeping table, named so it cannot clash in a shared PostgreSQL database.
VERSION_TABLE = "gptgate_schema_version"

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("account_id", sa.String(200), index=True),
    sa.Column("email", sa.String(320)),
    sa.Column("plan", sa.String(64)),
    # token columns hold ciphertext (gptgate.storage.crypto), never a token
    sa.Column("access_token", sa.Text),
    sa.Column("refresh_token", sa.Text),
    sa.Column("id_token", sa.Text),
    sa.Column("session_token", sa.Text),
    sa.Column("expires_at", sa.Double),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("status_reason", sa.Text),
    sa.Column("proxy", sa.Text),
    sa.Column("quota", sa.JSON, nullable=False),
    sa.Column("token_version", sa.Integer, nullable=False),
    sa.Column("last_refresh_at", sa.Double),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Column("last_used_at", sa.Double),
)
