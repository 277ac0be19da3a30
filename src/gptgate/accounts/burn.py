"""Burn projection: at the recent rate, when will an account's quota window run out?

The upstream tells us each window's ``used_percent`` (from ``x-codex-*`` headers on every served
answer and from the usage endpoint) but not how fast it is going. We keep a short in-memory
history of ``(time, used_percent)`` per account window, one sample per new quota snapshot, and
project linearly from the oldest sample of the recent horizon to the newest. No projection when
the figure is not rising, when there are not yet two snapshots far enough apart to mean
anything, or when the window resets before it would run out (then it never does).

Per process and forgotten on restart, deliberately: a projection is about the last hour, and
every worker sees the same upstream figures on its own traffic and usage polls.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from gptgate.accounts.model import Account, QuotaWindow

#: samples kept per window (a snapshot per served answer would be far more than needed)
MAX_SAMPLES = 64
#: only samples this recent count towards the rate
HORIZON_SECONDS = 3600.0
#: two samples closer than this say nothing about a rate
MIN_SPAN_SECONDS = 30.0
WINDOWS = ("primary", "secondary")


class BurnTracker:
    """``(time, used_percent)`` history per ``(account id, window)`` and the projection from it."""

    __slots__ = ("_history", "_seen")

    def __init__(self) -> None:
        self._history: dict[tuple[str, str], deque[tuple[float, float]]] = {}
        self._seen: dict[str, float] = {}

    def observe(self, account: Account) -> None:
        """Take the account's quota snapshot if it is new (cheap to call on every call's close)."""
        quota = account.quota
        if not quota.updated_at or self._seen.get(account.id) == quota.updated_at:
            return
        self._seen[account.id] = quota.updated_at
        self.sample(account.id, "primary", quota.updated_at, quota.primary)
        self.sample(account.id, "secondary", quota.updated_at, quota.secondary)

    def observe_all(self, accounts: Iterable[Account]) -> None:
        for account in accounts:
            self.observe(account)

    def sample(self, account_id: str, window: str, when: float, quota: QuotaWindow | None) -> None:
        if quota is None:
            return
        history = self._history.setdefault((account_id, window), deque(maxlen=MAX_SAMPLES))
        if history and quota.used_percent < history[-1][1]:
            history.clear()  # the window reset: the old rate belongs to the previous window
        if history and when <= history[-1][0]:
            return
        history.append((when, quota.used_percent))

    def projection(self, account_id: str, window: str, quota: QuotaWindow | None) -> float | None:
        """Epoch seconds when ``window`` reaches 100 % at the recent rate, or None."""
        history = self._history.get((account_id, window))
        if quota is None or not history:
            return None
        return project(list(history), quota.resets_at)

    def forget(self, keep: set[str]) -> None:
        """Drop the history of accounts no longer in the pool."""
        for key in [k for k in self._history if k[0] not in keep]:
            del self._history[key]
        for id_ in [i for i in self._seen if i not in keep]:
            del self._seen[id_]


def project(samples: list[tuple[float, float]], resets_at: float | None) -> float | None:
    """Linear projection of ``(time, used_percent)`` samples to 100 %; None if not rising, too
    little span, already exhausted, or the reset comes first."""
    if len(samples) < 2:
        return None
    t1, u1 = samples[-1]
    recent = [s for s in samples if s[0] >= t1 - HORIZON_SECONDS]
    t0, u0 = recent[0]
    if t1 - t0 < MIN_SPAN_SECONDS or u1 <= u0 or u1 >= 100.0:
        return None
    rate = (u1 - u0) / (t1 - t0)
    exhausted = t1 + (100.0 - u1) / rate
    if resets_at is not None and exhausted >= resets_at:
        return None
    return exhausted
