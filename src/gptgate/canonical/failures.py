"""What a failed canonical response means, as a gateway error (one table for every door)."""

from __future__ import annotations

import re

from gptgate import errors
from gptgate.types import JSONObject

_RETRY_IN = re.compile(r"try again in\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|sec|seconds?)", re.IGNORECASE)


def retry_after_from_message(message: str) -> float | None:
    """Codex's own rule: parse "try again in 11.054s" / "28ms" / "35 seconds"."""
    m = _RETRY_IN.search(message or "")
    if not m:
        return None
    value = float(m.group(1))
    return value / 1000.0 if m.group(2).lower().startswith("m") else value


def error_of_failed(response: JSONObject) -> errors.GatewayError:
    """Map a failed response's ``error`` to the gateway error a client should see."""
    err = response.get("error") or {}
    code = str(err.get("code") or err.get("type") or "")
    message = str(err.get("message") or "The upstream model failed to produce a response.")
    if code == "context_length_exceeded":
        return errors.RequestError(message, code=code)
    if code in ("usage_limit_reached", "insufficient_quota"):
        resets_at = err.get("resets_at")
        return errors.UsageLimitReached(message, resets_at=float(resets_at) if resets_at else None)
    if code == "usage_not_included":
        return errors.AccountForbidden(message, code=code)
    if code == "rate_limit_exceeded":
        return errors.UpstreamRateLimited(message, retry_after=retry_after_from_message(message))
    if code in ("invalid_prompt", "cyber_policy", "content_filter", "invalid_request_error"):
        return errors.UpstreamRequestRejected(message, code=code)
    if code in ("server_is_overloaded", "slow_down"):
        return errors.UpstreamUnavailable(message, code=code)
    return errors.UpstreamError(message, code=code or "upstream_failed")
