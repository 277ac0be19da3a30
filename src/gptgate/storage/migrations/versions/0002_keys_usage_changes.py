"""Client API keys, usage rows, and the store's change counter.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    changes = op.create_table(
        "store_changes",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_store_changes"),
    )
    op.bulk_insert(changes, [{"name": "store", "version": 1}])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("limits", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=True),
        sa.Column("revoked_at", sa.Double, nullable=True),
        sa.Column("last_used_at", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("secret_hash", name="uq_api_keys_secret_hash"),
    )
    op.create_table(
        "usage",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False, autoincrement=True
        ),
        sa.Column("ts", sa.Double, nullable=False),
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("account_id", sa.String(32), nullable=True),
        sa.Column("upstream", sa.String(32), nullable=True),
        sa.Column("door", sa.String(32), nullable=False),
        sa.Column("model", sa.String(120), nullable=True),
        sa.Column("session", sa.String(32), nullable=True),
        sa.Column("input_tokens", sa.Integer, nullable=False),
        sa.Column("cached_tokens", sa.Integer, nullable=False),
        sa.Column("output_tokens", sa.Integer, nullable=False),
        sa.Column("reasoning_tokens", sa.Integer, nullable=False),
        sa.Column("ttft_ms", sa.Integer, nullable=True),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("error_class", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_usage"),
    )
    op.create_index("ix_usage_ts", "usage", ["ts"])
    op.create_index("ix_usage_key_id", "usage", ["key_id"])
    op.create_index("ix_usage_account_id", "usage", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_usage_account_id", table_name="usage")
    op.drop_index("ix_usage_key_id", table_name="usage")
    op.drop_index("ix_usage_ts", table_name="usage")
    op.drop_table("usage")
    op.drop_table("api_keys")
    op.drop_table("store_changes")
