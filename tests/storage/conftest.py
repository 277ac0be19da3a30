"""Store fixtures: every store test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gptgate.storage import Store, TokenCipher, generate_key, key_from_text, open_store
from tests.servers.postgres import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def key_text() -> str:
    return generate_key()


@pytest.fixture
def cipher(key_text: str) -> TokenCipher:
    return TokenCipher(key_from_text(key_text))


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for an empty store on each backend (PostgreSQL started on first use)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'gptgate.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str, cipher: TokenCipher) -> Iterator[Store]:
    opened = open_store(store_url, cipher)
    opened.migrate()
    try:
        yield opened
    finally:
        opened.close()
