"""The suite-wide log scan finds planted secrets (by line and kind) and passes clean lines."""

from __future__ import annotations

from pathlib import Path

from tests.observability.logscan import scan


def test_scan_catches_planted_secrets(tmp_path: Path) -> None:
    log = tmp_path / "gptgate.log"
    log.write_text(
        "2026-01-01 INFO gptgate: listening\n"
        "2026-01-01 INFO gptgate: token eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln\n"
        "2026-01-01 INFO gptgate: client gg-k3yK3yK3y\n"
        '2026-01-01 INFO gptgate.access: 127.0.0.1 "GET /v1beta/models?key=AIzaXYZ HTTP/1.1" 200\n'
        "2026-01-01 INFO gptgate: sent Cookie: __Secure-next-auth.session-token=abc\n"
        "2026-01-01 INFO gptgate: refreshed with rt_[REDACTED] and Bearer [REDACTED]\n"
    )
    assert scan(log) == [
        (2, ["jwt"]),
        (3, ["gptgate_key"]),
        (4, ["query_key"]),
        (5, ["session_cookie", "cookie"]),
    ]


def test_scan_of_a_missing_file_is_clean(tmp_path: Path) -> None:
    assert scan(tmp_path / "absent.log") == []
