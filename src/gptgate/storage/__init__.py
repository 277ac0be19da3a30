"""The account store: one ``Store`` interface, SQLite (embedded default) and PostgreSQL.

``open_from_settings(settings)`` is the usual entry; ``open_store(url, cipher)`` when the URL
and key come from elsewhere. Tokens are encrypted at rest (``crypto.py``); the schema evolves by
ordered Alembic migrations (``migrations/``) that ``Store.migrate()`` applies.
"""

from __future__ import annotations

from gptgate.storage.base import (
    AccountNotFound,
    AccountRecord,
    DuplicateAccount,
    StaleTokenVersion,
    Status,
    Store,
    StoreError,
    UnsupportedDatabase,
    WrongSecretKey,
    new_account_id,
)
from gptgate.storage.connect import cipher_from_settings, database_url, open_from_settings, open_store
from gptgate.storage.crypto import TokenCipher, generate_key, key_from_text, load_or_create_key

__all__ = [
    "AccountNotFound",
    "AccountRecord",
    "DuplicateAccount",
    "StaleTokenVersion",
    "Status",
    "Store",
    "StoreError",
    "TokenCipher",
    "UnsupportedDatabase",
    "WrongSecretKey",
    "cipher_from_settings",
    "database_url",
    "generate_key",
    "key_from_text",
    "load_or_create_key",
    "new_account_id",
    "open_from_settings",
    "open_store",
]
