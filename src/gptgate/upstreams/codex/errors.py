"""Classify what the Codex backend answers instead of a stream (codex-backend.md §4)."""

from __future__ import annotations

import time
from collections.abc import Mapping

import orjson

from gptgate import errors
from gptgate.canonical.failures import retry_after_from_message
from gptgate.types import JSONObject


def _parse(body: bytes) -> tuple[JSONObject, str]:
    """The error object (``error`` or FastAPI ``detail``) and its message."""
    try:
        data = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return {}, body[:500].decode("utf-8", "replace").strip()
    if not isinstance(data, dict):
        return {}, str(data)[:500]
    err = data.get("error")
    if isinstance(err, dict):
        return err, str(err.get("message") or err.get("code") or "")
    detail = data.get("detail")
    if isinstance(detail, str):
        return {}, detail
    if isinstance(err, str):
        return data, str(data.get("error_description") or err)
    return data, orjson.dumps(data)[:500].decode()


def classify(status: int, headers: Mapping[str, str], body: bytes) -> errors.UpstreamError:
    """One upstream error, request-scoped or credential-scoped, with what the client should see."""
    err, message = _parse(body)
    kind = str(err.get("type") or err.get("code") or "")
    message = message or f"upstream answered HTTP {status}"
    exc = _by_status(status, kind, err, message, headers)
    exc.upstream_status = status
    return exc


def _by_status(
    status: int, kind: str, err: JSONObject, message: str, headers: Mapping[str, str]
) -> errors.UpstreamError:
    if status == 429:
        return _too_many(kind, err, message, headers)
    if status == 401:
        return errors.AccountUnauthorized(
            f"upstream rejected the account's token: {message}", code=kind or None
        )
    if status == 403:
        return errors.AccountForbidden(f"upstream refused the account: {message}", code=kind or None)
    if status == 404:
        return errors.UpstreamRequestRejected(message, code="upstream_not_found")
    if status == 413 or kind == "context_length_exceeded":
        return errors.UpstreamRequestRejected(message, code="context_length_exceeded")
    if 400 <= status < 500:
        code = "model_not_supported" if "model is not supported" in message else (kind or "upstream_rejected")
        return errors.UpstreamRequestRejected(message, code=code, param=err.get("param"))
    if status == 503:
        return errors.UpstreamUnavailable(
            message, code=kind or "upstream_overloaded", retry_after=_retry_after(headers)
        )
    return errors.UpstreamUnavailable(f"upstream answered HTTP {status}: {message}")


def _too_many(kind: str, err: JSONObject, message: str, headers: Mapping[str, str]) -> errors.UpstreamError:
    if kind == "usage_limit_reached":
        resets_at = err.get("resets_at")
        if resets_at is None and (after := err.get("resets_in_seconds")) is not None:
            resets_at = time.time() + float(after)
        return errors.UsageLimitReached(
            message,
            resets_at=float(resets_at) if resets_at is not None else None,
            plan_type=err.get("plan_type"),
        )
    if kind == "usage_not_included":
        return errors.AccountForbidden(message, code=kind)
    retry = _retry_after(headers) or retry_after_from_message(message)
    return errors.UpstreamRateLimited(message, retry_after=retry)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
