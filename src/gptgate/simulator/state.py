"""Mutable state of one simulator: quotas, queued faults, recorded requests, logins and tokens.

Time is simulated: ``now()`` is the wall clock plus an offset that tests move with
``advance_time``; quota windows roll over and tokens expire when ``now()`` passes their time.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.logins import Credentials, Logins, RefreshToken, RotateResult

PRIMARY_WINDOW_S = 5 * 3600
SECONDARY_WINDOW_S = 7 * 24 * 3600
SECONDARY_FACTOR = 10  # the weekly window holds this many primary windows' worth of turns
RECORD_LIMIT = 200
PROMPT_CACHE_LIMIT = 10_000


@dataclass(slots=True)
class Fault:
    """One queued or directive-triggered fault (see ``faults.py`` for the kinds)."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    account_id: str | None = None


@dataclass(slots=True)
class AccountUsage:
    """Quota windows of one ChatGPT account: turns used in the 5-hour (``used``) and weekly
    (``total``) windows, their reset times, and the account's own budgets (None: the config's)."""

    account_id: str
    plan: str = "plus"
    used: int = 0
    window_reset_at: float | None = None
    total: int = 0
    secondary_reset_at: float | None = None
    primary_limit: int | None = None
    secondary_limit: int | None = None
    turns: int = 0


class SimulatorState:
    def __init__(self, config: SimulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._start()

    def _start(self) -> None:
        self.time_offset = 0.0
        self.accounts: dict[str, AccountUsage] = {}
        self.faults: deque[Fault] = deque()
        self.requests: deque[dict[str, Any]] = deque(maxlen=RECORD_LIMIT)
        self.logins = Logins(self.config, self.now)
        self.auth_faults: deque[Fault] = deque()
        self.auth_outage: Fault | None = None
        self.auth_delay_ms = self.config.auth_delay_ms
        self.prompt_cache: dict[tuple[str, str], int] = {}
        self.turns = 0
        self._serial = 0
        self.seeded: list[Credentials] = self.seed_accounts(self.config.accounts)

    # -- time -------------------------------------------------------------------------------
    def now(self) -> float:
        return self._clock() + self.time_offset

    def advance_time(self, seconds: float) -> None:
        self.time_offset += seconds

    # -- quota ------------------------------------------------------------------------------
    def usage_for(self, account_id: str, plan: str | None = None) -> AccountUsage:
        """The account's usage record (created on first sight), with expired windows rolled."""
        usage = self.accounts.get(account_id)
        if usage is None:
            usage = self.accounts[account_id] = AccountUsage(account_id)
        if plan is not None:
            usage.plan = plan
        now = self.now()
        if usage.window_reset_at is not None and now >= usage.window_reset_at:
            usage.used, usage.window_reset_at = 0, None
        if usage.secondary_reset_at is not None and now >= usage.secondary_reset_at:
            usage.total, usage.secondary_reset_at = 0, None
        return usage

    def primary_limit(self, usage: AccountUsage) -> int | None:
        """Turns per 5-hour window of this account (None: unlimited)."""
        limit = usage.primary_limit
        return self.config.quota_requests_per_window if limit is None else limit

    def secondary_limit(self, usage: AccountUsage) -> int | None:
        """Turns per weekly window: the account's, the config's, else ten 5-hour budgets."""
        if usage.secondary_limit is not None:
            return usage.secondary_limit
        if self.config.quota_requests_per_week is not None:
            return self.config.quota_requests_per_week
        primary = self.primary_limit(usage)
        return None if primary is None else primary * SECONDARY_FACTOR

    def exhausted_windows(self, usage: AccountUsage) -> tuple[bool, bool]:
        """(5-hour window spent, weekly window spent)."""
        primary, secondary = self.primary_limit(usage), self.secondary_limit(usage)
        return (
            primary is not None and usage.used >= primary,
            secondary is not None and usage.total >= secondary,
        )

    def quota_exhausted(self, usage: AccountUsage) -> bool:
        return any(self.exhausted_windows(usage))

    def consume_turn(self, usage: AccountUsage) -> None:
        now = self.now()
        if usage.window_reset_at is None:
            usage.window_reset_at = now + PRIMARY_WINDOW_S
        if usage.secondary_reset_at is None:
            usage.secondary_reset_at = now + SECONDARY_WINDOW_S
        usage.used += 1
        usage.total += 1
        usage.turns += 1

    def primary_percent(self, usage: AccountUsage) -> float:
        return _percent(usage.used, self.primary_limit(usage))

    def secondary_percent(self, usage: AccountUsage) -> float:
        return _percent(usage.total, self.secondary_limit(usage))

    def primary_reset_at(self, usage: AccountUsage) -> float:
        return usage.window_reset_at if usage.window_reset_at is not None else self.now() + PRIMARY_WINDOW_S

    def secondary_reset_at(self, usage: AccountUsage) -> float:
        reset = usage.secondary_reset_at
        return reset if reset is not None else self.now() + SECONDARY_WINDOW_S

    def reset_account(self, account_id: str) -> None:
        """Forget the account's usage (both windows); its plan and budgets stay."""
        usage = self.accounts.get(account_id)
        if usage is not None:
            self.accounts[account_id] = AccountUsage(
                account_id,
                usage.plan,
                primary_limit=usage.primary_limit,
                secondary_limit=usage.secondary_limit,
            )

    def set_quota(self, account_id: str, primary: int | None, secondary: int | None) -> None:
        """Give the account its own budgets (None: back to the config's)."""
        usage = self.usage_for(account_id)
        usage.primary_limit, usage.secondary_limit = primary, secondary

    def set_window_reset(self, account_id: str, reset_at: float) -> None:
        """Move the primary window's reset time (e.g. into the past so the next turn rolls it)."""
        self.usage_for(account_id).window_reset_at = reset_at

    # -- faults -----------------------------------------------------------------------------
    def queue_faults(self, faults: Iterable[Fault]) -> int:
        before = len(self.faults)
        self.faults.extend(faults)
        return len(self.faults) - before

    def clear_faults(self) -> int:
        count = len(self.faults)
        self.faults.clear()
        return count

    def pop_fault(self, account_id: str) -> Fault | None:
        """The oldest queued fault meant for any account or for ``account_id``."""
        for index, fault in enumerate(self.faults):
            if fault.account_id is None or fault.account_id == account_id:
                del self.faults[index]
                return fault
        return None

    # -- recorded requests ------------------------------------------------------------------
    def record(self, method: str, path: str, query: str, headers: Mapping[str, str], body: Any) -> None:
        if self.config.record_requests:
            lowered = {name.lower(): value for name, value in headers.items()}
            self.requests.append(
                {"method": method, "path": path, "query": query, "headers": lowered, "body": body}
            )

    def clear_requests(self) -> int:
        count = len(self.requests)
        self.requests.clear()
        return count

    # -- logins and tokens (see logins.py) --------------------------------------------------
    def seed_accounts(
        self,
        count: int,
        *,
        plan: str | None = None,
        primary_limit: int | None = None,
        secondary_limit: int | None = None,
    ) -> list[Credentials]:
        """``count`` new accounts with their tokens and, optionally, their own quota budgets."""
        created = self.logins.seed(count, plan)
        for credentials in created:
            usage = self.usage_for(credentials.account_id, credentials.plan)
            usage.primary_limit, usage.secondary_limit = primary_limit, secondary_limit
        return created

    @property
    def refresh_tokens(self) -> dict[str, RefreshToken]:
        return self.logins.refresh_tokens

    def add_refresh_token(
        self, refresh_token: str, account_id: str, plan: str | None = None, email: str | None = None
    ) -> None:
        self.logins.add(account_id, plan=plan, email=email)
        self.logins.refresh_tokens[refresh_token] = RefreshToken(account_id)

    def rotate_refresh_token(self, refresh_token: str) -> RotateResult:
        return self.logins.rotate(refresh_token)

    def pop_auth_fault(self) -> Fault | None:
        """The next one-shot auth-endpoint fault, else the standing outage (if any)."""
        return self.auth_faults.popleft() if self.auth_faults else self.auth_outage

    # -- counters and caches ----------------------------------------------------------------
    def next_turn(self) -> int:
        self.turns += 1
        return self.turns

    def serial_hex(self, salt: str = "") -> str:
        """A fresh deterministic 32-hex-digit string (seed + counter + salt)."""
        self._serial += 1
        text = f"{self.config.seed}:{self._serial}:{salt}"
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def cached_tokens(self, account_id: str, cache_key: str | None, input_tokens: int) -> int:
        """Prompt-cache simulation: the previous input size for this key, rounded down to 128."""
        if not cache_key:
            return 0
        key = (account_id, cache_key)
        previous = self.prompt_cache.get(key, 0)
        if len(self.prompt_cache) >= PROMPT_CACHE_LIMIT:
            self.prompt_cache.clear()
        self.prompt_cache[key] = input_tokens
        return min(previous, input_tokens) // 128 * 128

    def reset(self) -> None:
        """Forget everything except the configuration."""
        self._start()


def _percent(used: int, limit: int | None) -> float:
    if limit is None:
        return 0.0
    return 100.0 if limit <= 0 else min(100.0, used * 100.0 / limit)


STATE_KEY = web.AppKey("gptgate_simulator_state", SimulatorState)
