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
    # the upstreams the login may serve (a JSON list); NULL: every one
    sa.Column("upstreams", sa.JSON),
)

#: One row per counter: ``store`` goes up by one with every committed change to accounts or
#: client keys, so running workers notice a change made anywhere with one cheap read.
changes = sa.Table(
    "store_changes",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

#: Client API keys: only the SHA-256 of the secret is kept (``secret_hash``); ``prefix`` is the
#: display form (``gg-`` and a few characters), ``id`` the short non-secret handle.
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(32), nullable=False),
    sa.Column("secret_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("limits", sa.JSON, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Column("expires_at", sa.Double),
    sa.Column("revoked_at", sa.Double),
    sa.Column("last_used_at", sa.Double),
)

#: One row per model call (usage accounting), written in batches off the hot path.
usage = sa.Table(
    "usage",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("ts", sa.Double, nullable=False, index=True),
    sa.Column("request_id", sa.String(40), nullable=False),
    sa.Column("key_id", sa.String(32)),
    sa.Column("account_id", sa.String(32)),
    sa.Column("upstream", sa.String(32)),
    sa.Column("door", sa.String(32), nullable=False),
    sa.Column("model", sa.String(120)),
    sa.Column("session", sa.String(32)),
    sa.Column("input_tokens", sa.Integer, nullable=False),
    sa.Column("cached_tokens", sa.Integer, nullable=False),
    sa.Column("output_tokens", sa.Integer, nullable=False),
    sa.Column("reasoning_tokens", sa.Integer, nullable=False),
    sa.Column("ttft_ms", sa.Integer),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("error_class", sa.String(64)),
    #: a key's budget spend since a window's start (``SqlUsageStore.spend``); the only indexes
    #: besides ``ts``, since every row written updates each one
    sa.Index("ix_usage_key_id_ts", "key_id", "ts"),
)

#: The chat page's conversations (``/chat``), each owned by one client key: ``owner`` is the
#: stored key's id, ``static:<sha256 prefix>`` for a key from settings, or ``anonymous``.
chat_conversations = sa.Table(
    "chat_conversations",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False, index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("model", sa.String(200)),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
)

#: A conversation's turns, in order (``id`` grows); ``content`` is the Chat Completions content
#: (a string or a list of parts), ``reasoning`` the model's shown thinking, if any.
chat_messages = sa.Table(
    "chat_messages",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(32), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("content", sa.JSON, nullable=False),
    sa.Column("reasoning", sa.Text),
    sa.Column("created_at", sa.Double, nullable=False),
)
