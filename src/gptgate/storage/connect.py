"""Opening a store: from a database URL and a cipher, or from the gateway's settings."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from gptgate.settings import Settings
from gptgate.storage.base import Store, UnsupportedDatabase
from gptgate.storage.crypto import TokenCipher, key_from_text, load_or_create_key
from gptgate.storage.postgres import postgres_engine
from gptgate.storage.sql import SqlStore
from gptgate.storage.sqlite import sqlite_engine

DATABASE_FILE = "gptgate.db"
KEY_FILE = "secret.key"


def open_store(url: str, cipher: TokenCipher) -> Store:
    """A store for ``sqlite:///path`` (directory created) or ``postgresql://user@host:port/db``.

    Nothing is read or written until the first call; call ``migrate()`` before using it.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UnsupportedDatabase("database_url is not a database URL") from exc
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite" and driver in ("sqlite", "pysqlite"):
        return SqlStore(sqlite_engine(parsed), cipher)
    if backend in ("postgresql", "postgres") and driver in (backend, "psycopg"):
        return SqlStore(postgres_engine(parsed), cipher)
    raise UnsupportedDatabase(
        f"unsupported database_url scheme {parsed.drivername!r}: use sqlite:///path or postgresql://..."
    )


def database_url(settings: Settings) -> str:
    """The configured database URL, or the SQLite file in ``data_dir``."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return f"sqlite:///{data_dir(settings) / DATABASE_FILE}"


def data_dir(settings: Settings) -> Path:
    return settings.data_dir.expanduser()


def cipher_from_settings(settings: Settings) -> TokenCipher:
    """``secret_key`` if set, else the key file (created on first use)."""
    if settings.secret_key is not None:
        return TokenCipher(key_from_text(settings.secret_key.get_secret_value()))
    return TokenCipher(load_or_create_key(settings.secret_key_file or data_dir(settings) / KEY_FILE))


def open_from_settings(settings: Settings, *, migrate: bool = True) -> Store:
    """The store the settings describe, migrated to the newest schema unless ``migrate=False``."""
    store = open_store(database_url(settings), cipher_from_settings(settings))
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store
