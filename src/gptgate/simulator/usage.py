"""Rate-limit headers (protocol §1.3), the usage-limit 429 (§4.1) and ``/wham/usage`` (§4.5)."""

from __future__ import annotations

from typing import Any

from gptgate.simulator.state import PRIMARY_WINDOW_S, SECONDARY_WINDOW_S, AccountUsage, SimulatorState

USAGE_LIMIT_MESSAGE = "The usage limit has been reached"


def fmt_number(value: float) -> str:
    """``100`` for integral values, else at most two decimals (``33.33``)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0")


def window_headers(family: str, percent: float, window_s: int, reset_at: float, now: float) -> dict[str, str]:
    prefix = f"x-codex-{family}-"
    return {
        prefix + "used-percent": fmt_number(percent),
        prefix + "window-minutes": str(window_s // 60),
        prefix + "reset-at": str(int(reset_at)),
        prefix + "reset-after-seconds": str(max(0, int(reset_at - now))),
    }


def rate_limit_headers(
    state: SimulatorState, usage: AccountUsage, request_id: str, primary_percent: float | None = None
) -> dict[str, str]:
    """The ``x-codex-*`` header families for ``usage``, in the order of the 429 fixture."""
    now = state.now()
    percent = state.primary_percent(usage) if primary_percent is None else primary_percent
    headers = {"x-codex-plan-type": usage.plan, "x-codex-active-limit": "codex"}
    headers.update(window_headers("primary", percent, PRIMARY_WINDOW_S, state.primary_reset_at(usage), now))
    secondary = state.secondary_percent(usage)
    headers.update(
        window_headers("secondary", secondary, SECONDARY_WINDOW_S, state.secondary_reset_at(usage), now)
    )
    headers["x-codex-credits-has-credits"] = "False"
    headers["x-codex-credits-unlimited"] = "False"
    headers["x-codex-credits-balance"] = "0"
    headers["x-request-id"] = request_id
    return headers


def usage_limit_body(plan: str, resets_at: int, resets_in_seconds: int) -> dict[str, Any]:
    return {
        "error": {
            "type": "usage_limit_reached",
            "message": USAGE_LIMIT_MESSAGE,
            "plan_type": plan,
            "resets_at": resets_at,
            "resets_in_seconds": resets_in_seconds,
        }
    }


def usage_limit_response_parts(
    state: SimulatorState, usage: AccountUsage, request_id: str, resets_in: int | None = None
) -> tuple[dict[str, str], dict[str, Any]]:
    """Headers and body of the usage-limit 429 for the account's spent window(s).

    ``resets_at`` is when every spent window has rolled over (the weekly one when it is spent);
    ``resets_in`` (a fault) overrides it and marks the 5-hour window spent.
    """
    now = state.now()
    primary_spent, secondary_spent = state.exhausted_windows(usage)
    if resets_in is not None:
        primary_spent, resets_at = True, int(now) + resets_in
    else:
        resets = [state.primary_reset_at(usage)] if primary_spent or not secondary_spent else []
        if secondary_spent:
            resets.append(state.secondary_reset_at(usage))
        resets_at, resets_in = int(max(resets)), max(0, int(max(resets) - now))
    headers = {"content-type": "application/json"}
    headers.update(rate_limit_headers(state, usage, request_id, 100.0 if primary_spent else None))
    if primary_spent and not secondary_spent:
        headers["x-codex-primary-reset-at"] = str(resets_at)
        headers["x-codex-primary-reset-after-seconds"] = str(resets_in)
    return headers, usage_limit_body(usage.plan, resets_at, resets_in)


def _window(percent: float, window_s: int, reset_at: float, now: float) -> dict[str, Any]:
    used = int(percent) if percent == int(percent) else round(percent, 2)
    return {
        "used_percent": used,
        "limit_window_seconds": window_s,
        "reset_after_seconds": max(0, int(reset_at - now)),
        "reset_at": int(reset_at),
    }


def wham_usage_body(state: SimulatorState, usage: AccountUsage) -> dict[str, Any]:
    """The ``GET /backend-api/wham/usage`` document for ``usage``."""
    now = state.now()
    reached = state.quota_exhausted(usage)
    primary = _window(state.primary_percent(usage), PRIMARY_WINDOW_S, state.primary_reset_at(usage), now)
    secondary = _window(
        state.secondary_percent(usage), SECONDARY_WINDOW_S, state.secondary_reset_at(usage), now
    )
    return {
        "plan_type": usage.plan,
        "rate_limit": {
            "allowed": not reached,
            "limit_reached": reached,
            "primary_window": primary,
            "secondary_window": secondary,
        },
        "code_review_rate_limit": None,
        "additional_rate_limits": [],
        "credits": None,
    }
