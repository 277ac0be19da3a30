"""An account's egress proxy is sealed at rest like its tokens (its URL may carry a password).

The column keeps its name and type; its values become ``g1:…`` ciphertexts bound to
``<account id>/proxy``. Sealing needs the store's key, which ``SqlStore.migrate`` hands over as
``config.attributes["cipher"]``; values that are sealed already are left alone, so a rerun is
harmless. Downgrade opens them again.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None

_SEALED = "g1:"


def _cipher() -> Any:
    cipher = context.config.attributes.get("cipher")
    if cipher is None:
        raise RuntimeError("migration 0005 needs the store's secret key (run it through SqlStore.migrate)")
    return cipher


def _rewrite(change: Any) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, proxy FROM accounts WHERE proxy IS NOT NULL")).all()
    for account_id, proxy in rows:
        new = change(account_id, proxy)
        if new != proxy:
            conn.execute(
                sa.text("UPDATE accounts SET proxy = :proxy WHERE id = :id"), {"proxy": new, "id": account_id}
            )


def upgrade() -> None:
    cipher = _cipher()
    _rewrite(lambda i, p: p if p.startswith(_SEALED) else cipher.encrypt(p, f"{i}/proxy"))


def downgrade() -> None:
    cipher = _cipher()
    _rewrite(lambda i, p: cipher.decrypt(p, f"{i}/proxy") if p.startswith(_SEALED) else p)
