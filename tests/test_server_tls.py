"""``tls_cert``/``tls_key``: the server's TLS context (``server.ssl_context``)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from gptgate.server import ssl_context
from gptgate.settings import Settings
from tests.protocols.codex_native.served import make_cert


def settings(**values: Any) -> Settings:
    return Settings(**{"account_store": False, **values})


def test_plain_http_without_a_certificate() -> None:
    assert ssl_context(settings()) is None


def test_a_certificate_and_its_key_make_a_server_context(tmp_path: Path) -> None:
    cert, key, _ = make_cert(tmp_path)
    context = ssl_context(settings(tls_cert=cert, tls_key=key))
    assert isinstance(context, ssl.SSLContext) and context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_one_without_the_other_is_refused_at_start(tmp_path: Path) -> None:
    cert, _, _ = make_cert(tmp_path)
    with pytest.raises(SystemExit, match="tls_cert and tls_key go together"):
        ssl_context(settings(tls_cert=cert))
