"""The usage table keeps two indexes, not three: ``ts`` (every console read is a time range) and
``(key_id, ts)`` (a key's budget spend since a window's start); the ``account_id`` index went
(no query filters on it: per-account totals group a time range) and ``key_id`` alone became the
composite. Every row a call writes updates each index, so each one costs on the hot write path.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_usage_key_id_ts", "usage", ["key_id", "ts"])
    op.drop_index("ix_usage_key_id", table_name="usage")
    op.drop_index("ix_usage_account_id", table_name="usage")


def downgrade() -> None:
    op.create_index("ix_usage_account_id", "usage", ["account_id"])
    op.create_index("ix_usage_key_id", "usage", ["key_id"])
    op.drop_index("ix_usage_key_id_ts", table_name="usage")
