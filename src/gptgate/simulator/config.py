"""Settings of the Codex-backend simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DEFAULT_TOKEN_LIFETIME_S = 10 * 24 * 3600  # access tokens (protocol §5.3, web §5.3)
DEFAULT_SESSION_LIFETIME_S = 30 * 24 * 3600  # NextAuth's default session age
DEFAULT_MODELS: tuple[str, ...] = (
    "gpt-5.5",
    "gpt-5.4",
    "gpt-5.4-mini",
    "gpt-5.3-codex",
    "gpt-5.2",
    "gpt-5.1-codex",
    "gpt-5.1",
    "gpt-6.1-sol",
    "codex-auto-review",
)


@dataclass
class SimulatorConfig:
    """How the simulator answers.

    ``burst`` writes a whole reply body at once (the benchmark's upstream); ``paced`` writes one
    SSE record per write and sleeps ``interval_ms`` between records (a live model's rhythm).

    Quota: every account may take ``quota_requests_per_window`` turns per 5-hour window and
    ``quota_requests_per_week`` per weekly window (default ten 5-hour budgets); None means no
    limit. Accounts may override both (``SimulatorState.set_quota``). ``accounts`` logins are
    created at start and again after a reset (``SimulatorState.seed_accounts``), each with
    access, id, refresh and session tokens. ``auth_delay_ms`` delays ``/oauth/token`` and
    ``/api/auth/session`` (so that concurrent refreshes overlap in tests).
    """

    mode: Literal["burst", "paced"] = "burst"
    interval_ms: float = 0.0
    text_deltas: int = 8
    first_byte_delay_ms: float = 0.0
    require_auth: bool = True
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    quota_requests_per_window: int | None = None
    quota_requests_per_week: int | None = None
    seed: int = 0
    record_requests: bool = True
    accounts: int = 0
    account_plan: str = "plus"
    access_token_lifetime_s: int = DEFAULT_TOKEN_LIFETIME_S
    session_lifetime_s: int = DEFAULT_SESSION_LIFETIME_S
    auth_delay_ms: float = 0.0
