"""Redaction: each kind of secret, in the shapes it reaches a log line, becomes [REDACTED]."""

from __future__ import annotations

import pytest

from gptgate.observability.redact import redact, secret_kinds

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl_-x"

CASES = [
    (f"token {JWT} expired", "token [REDACTED] expired"),
    ("Authorization: Bearer sk-live-abc", "Authorization: Bearer [REDACTED]"),
    ("authorization=bearer opaque.value,", "authorization=[REDACTED] [REDACTED],"),
    ("key sk-proj-AbC123xyz and sk-demo", "key sk-[REDACTED] and sk-[REDACTED]"),
    ("client gg-7Hq2_kP9xZ used", "client gg-[REDACTED] used"),
    ("rotated rt_abc.DEF-123 at start_time", "rotated rt_[REDACTED] at start_time"),
    (
        "cookie __Secure-next-auth.session-token=abc.def; theme=dark",
        "cookie __Secure-next-auth.session-token=[REDACTED]; theme=dark",
    ),
    ("Cookie: sid=1; other=2", "Cookie: [REDACTED]"),
    ("Set-Cookie: sid=xyz; Path=/; HttpOnly", "Set-Cookie: [REDACTED]"),
    ("headers {'Cookie': 'sid=1', 'Host': 'x'}", "headers {'Cookie': '[REDACTED]', 'Host': 'x'}"),
    (
        '"GET /v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=AIzaSy0 HTTP/1.1" 200',
        '"GET /v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=[REDACTED] HTTP/1.1" 200',
    ),
    ("GET /v1/models?key=abc HTTP/1.1", "GET /v1/models?key=[REDACTED] HTTP/1.1"),
    ("login password=hunter2&user=bob", "login password=[REDACTED]&user=bob"),
    ('{"password": "hun\\"ter2", "user": "bob"}', '{"password": "[REDACTED]", "user": "bob"}'),
    ("proxy socks5://bob:s3cret@127.0.0.1:1080 down", "proxy socks5://bob:[REDACTED]@127.0.0.1:1080 down"),
    ("db postgresql://gg:pw@db:5432/x", "db postgresql://gg:[REDACTED]@db:5432/x"),
]

CLEAN = [
    "account acct-1 cooling down for 30 s: usage_limit_reached",
    "task-foo egg-info disk-usage risk-based sort_key start_time",
    "GET /v1/models HTTP/1.1 200 and http://127.0.0.1:8080/path",
    "refreshed the tokens of acct-2 (plus)",
    "egress proxy http://bob:***@127.0.0.1:1080 failed",  # masked already
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_secret_is_redacted(line: str, expected: str) -> None:
    assert redact(line) == expected
    assert secret_kinds(line)
    assert redact(expected) == expected and secret_kinds(expected) == []


@pytest.mark.parametrize("line", CLEAN)
def test_clean_line_is_unchanged(line: str) -> None:
    assert redact(line) == line
    assert secret_kinds(line) == []


def test_kinds_name_the_pattern_not_the_secret() -> None:
    kinds = secret_kinds(f"Bearer {JWT} ?key=zz Cookie: a=b gg-abcdefgh")
    assert kinds == ["jwt", "bearer", "cookie", "query_key", "gptgate_key"]
