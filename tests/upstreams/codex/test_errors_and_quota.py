"""Classification of what the Codex backend answers instead of a stream, and its quota headers."""

from __future__ import annotations

import time

import orjson

from gptgate import errors
from gptgate.upstreams.codex.errors import classify
from gptgate.upstreams.codex.quota import parse_quota
from tests.support import fixture_path


def _http_fixture() -> tuple[int, dict[str, str], bytes]:
    raw = fixture_path("codex", "usage-limit-429.constructed.http").read_bytes()
    head, body = raw.split(b"\r\n\r\n", 1) if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)
    lines = head.decode().splitlines()
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    return status, headers, body.strip()


def test_usage_limit_fixture_is_an_account_error_until_resets_at() -> None:
    status, headers, body = _http_fixture()
    exc = classify(status, headers, body)
    assert isinstance(exc, errors.UsageLimitReached)
    assert isinstance(exc, errors.AccountError)
    assert exc.resets_at == 1795390800
    assert exc.plan_type == "plus"
    assert exc.status == 429
    assert exc.message == "The usage limit has been reached"


def test_usage_limit_body_only_uses_resets_in_seconds_when_no_resets_at() -> None:
    body = orjson.dumps({"error": {"type": "usage_limit_reached", "message": "m", "resets_in_seconds": 120}})
    exc = classify(429, {}, body)
    assert isinstance(exc, errors.UsageLimitReached)
    assert exc.resets_at is not None and 110 < exc.resets_at - time.time() <= 120
    assert exc.headers["Retry-After"] in {"119", "120"}


def test_quota_headers_of_the_fixture() -> None:
    _, headers, _ = _http_fixture()
    quota = parse_quota(headers, now=1795373400)
    assert quota is not None
    assert quota.plan_type == "plus"
    assert quota.primary is not None and quota.secondary is not None
    assert (quota.primary.used_percent, quota.primary.window_minutes, quota.primary.resets_at) == (
        100,
        300,
        1795390800,
    )
    assert (quota.secondary.used_percent, quota.secondary.window_minutes) == (62, 10080)


def test_all_zero_quota_windows_mean_no_data() -> None:
    assert parse_quota({"x-codex-primary-used-percent": "0", "x-codex-primary-window-minutes": "0"}) is None


def test_other_limit_family_is_read_when_active() -> None:
    headers = {"x-codex-active-limit": "codex_other", "x-codex-other-primary-used-percent": "40"}
    quota = parse_quota(headers)
    assert quota is not None and quota.primary is not None and quota.primary.used_percent == 40


def test_401_is_credential_scoped() -> None:
    body = b'{"error":{"message":"Provided authentication token is expired. Please try signing in again.","code":"token_expired"}}'
    exc = classify(401, {}, body)
    assert isinstance(exc, errors.AccountUnauthorized)
    assert "token is expired" in exc.message


def test_fastapi_detail_400_is_request_scoped() -> None:
    exc = classify(400, {}, b'{"detail":"Unsupported parameter: temperature"}')
    assert isinstance(exc, errors.UpstreamRequestRejected)
    assert not isinstance(exc, errors.AccountError)
    assert (exc.status, exc.message) == (400, "Unsupported parameter: temperature")


def test_unsupported_model_400_gets_its_code() -> None:
    body = b'{"detail":"The \'gpt-5\' model is not supported when using Codex with a ChatGPT account."}'
    assert classify(400, {}, body).code == "model_not_supported"


def test_overloaded_503_is_retryable_with_retry_after() -> None:
    exc = classify(503, {"retry-after": "2"}, b'{"error":{"code":"server_is_overloaded","message":"busy"}}')
    assert isinstance(exc, errors.UpstreamUnavailable) and exc.retryable
    assert (exc.code, exc.retry_after) == ("server_is_overloaded", 2.0)


def test_plain_text_500_is_retryable() -> None:
    exc = classify(500, {}, b"Internal Server Error")
    assert exc.retryable and exc.status == 502
    assert "Internal Server Error" in exc.message


def test_rate_limit_429_that_is_not_a_quota_parses_try_again_in() -> None:
    body = b'{"error":{"type":"rate_limit_exceeded","message":"Rate limit reached. Please try again in 11.054s."}}'
    exc = classify(429, {}, body)
    assert isinstance(exc, errors.UpstreamRateLimited)
    assert exc.retry_after == 11.054
