"""Read the ``x-codex-*`` rate-limit headers into an account's quota snapshot."""

from __future__ import annotations

import time
from collections.abc import Mapping

from gptgate.accounts.model import Quota, QuotaWindow


def _float(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _window(headers: Mapping[str, str], prefix: str, now: float) -> QuotaWindow | None:
    used = _float(headers, prefix + "-used-percent")
    minutes = _float(headers, prefix + "-window-minutes")
    reset_at = _float(headers, prefix + "-reset-at")
    if reset_at is None and (after := _float(headers, prefix + "-reset-after-seconds")) is not None:
        reset_at = now + after
    if not used and not minutes and reset_at is None:
        return None  # all-zero windows mean "no data" (Codex's own rule)
    return QuotaWindow(used_percent=used or 0.0, window_minutes=int(minutes or 0) or None, resets_at=reset_at)


def parse_quota(headers: Mapping[str, str], now: float | None = None) -> Quota | None:
    """The snapshot in these headers, or None when they carry none."""
    now = time.time() if now is None else now
    family = "x-" + (headers.get("x-codex-active-limit") or "codex").replace("_", "-")
    primary = _window(headers, family + "-primary", now)
    secondary = _window(headers, family + "-secondary", now)
    plan = headers.get("x-codex-plan-type")
    if primary is None and secondary is None and plan is None:
        return None
    return Quota(primary=primary, secondary=secondary, plan_type=plan, updated_at=now)


def parse_usage(body: Mapping[str, object], now: float | None = None) -> Quota:
    """The usage endpoint's answer (``GET /backend-api/wham/usage``, codex-backend.md §4.5)."""
    now = time.time() if now is None else now
    limits = body.get("rate_limit")
    limits = limits if isinstance(limits, Mapping) else {}
    plan = body.get("plan_type")
    return Quota(
        primary=_usage_window(limits.get("primary_window"), now),
        secondary=_usage_window(limits.get("secondary_window"), now),
        plan_type=plan if isinstance(plan, str) else None,
        updated_at=now,
    )


def _usage_window(value: object, now: float) -> QuotaWindow | None:
    if not isinstance(value, Mapping):
        return None
    seconds = value.get("limit_window_seconds")
    reset_at = value.get("reset_at")
    if not isinstance(reset_at, int | float) and isinstance(
        after := value.get("reset_after_seconds"), int | float
    ):
        reset_at = now + after
    used = value.get("used_percent")
    return QuotaWindow(
        used_percent=float(used) if isinstance(used, int | float) else 0.0,
        window_minutes=round(seconds / 60) if isinstance(seconds, int | float) else None,
        resets_at=float(reset_at) if isinstance(reset_at, int | float) else None,
    )
