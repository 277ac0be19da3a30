"""The pool's quota as one account's: the figures ``wham/usage`` answers Codex with.

Codex CLI shows the signed-in account's 5-hour and weekly windows and stops the user when they
are spent. Behind gptgate the "account" is the pool, so each window is the pool's combined one:

* **members**: the usable accounts that may serve the Codex upstream (each counts once);
* **an account's use of a window**: its latest ``used_percent`` (from the ``x-codex-*`` headers
  of its last turn or the usage endpoint), 0 when unknown or when the window has reset since,
  and 100 for the 5-hour window while the account is cooling down (it serves nothing now; its
  reset is then the cool-down's end);
* **used share**: the mean of the members' use, i.e. the used share of the pool's total
  capacity, each account weighing the same (the backend tells percentages, not capacities);
* **room**: some member is not cooling and has used less than 100 % of both windows. While
  there is room the share is reported as at most 99 % (rounded down), so Codex never sees a
  spent quota while an account can still serve; with no room it is 100 %;
* **reset**: the earliest future reset among the members that have used some of the window
  (the next moment capacity comes back); with no use at all, one window length from now.

Nothing here names an account: the figures are sums and minima over the pool.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from gptgate.accounts.model import Account, QuotaWindow

PRIMARY_SECONDS: Final = 5 * 3600
SECONDARY_SECONDS: Final = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class PooledWindow:
    used_percent: int
    window_seconds: int
    resets_at: int


@dataclass(frozen=True, slots=True)
class PooledQuota:
    primary: PooledWindow
    secondary: PooledWindow
    #: the plan most members have (None: none known)
    plan: str | None
    #: no member can serve now
    limit_reached: bool
    members: int


def pooled_quota(
    accounts: Iterable[Account],
    cooling: Mapping[str, float],
    upstream: str = "codex",
    now: float | None = None,
) -> PooledQuota:
    """The pool's combined windows (the formula is the module's docstring); ``cooling`` maps
    account ids to the end of their cool-down (the shared state's, or each account's own)."""
    now = time.time() if now is None else now
    members = [a for a in accounts if a.usable and a.serves(upstream)]
    cooled = {a.id: until for a in members if (until := cooling.get(a.id, 0.0)) > now}
    primary = [_use(a.quota.primary, now, cooled.get(a.id)) for a in members]
    secondary = [_use(a.quota.secondary, now, None) for a in members]
    room = any(
        a.id not in cooled and p[0] < 100 and s[0] < 100
        for a, p, s in zip(members, primary, secondary, strict=True)
    )
    plans = Counter(a.plan or a.quota.plan_type for a in members if a.plan or a.quota.plan_type)
    return PooledQuota(
        primary=_combine(primary, _length(members, True), room, now),
        secondary=_combine(secondary, _length(members, False), room, now),
        plan=plans.most_common(1)[0][0] if plans else None,
        limit_reached=not room,
        members=len(members),
    )


Use = tuple[float, float | None]  # (percent used, when it resets)


def _use(window: QuotaWindow | None, now: float, cooling_until: float | None) -> Use:
    if cooling_until is not None:
        return 100.0, cooling_until
    if window is None or (window.resets_at is not None and window.resets_at <= now):
        return 0.0, None
    return min(100.0, max(0.0, window.used_percent)), window.resets_at


def _combine(uses: list[Use], length: int, room: bool, now: float) -> PooledWindow:
    share = sum(u for u, _ in uses) / len(uses) if uses else 0.0
    used = min(99, int(share)) if room else 100
    resets = [r for u, r in uses if u > 0 and r is not None and r > now]
    return PooledWindow(used, length, int(min(resets)) if resets else int(now) + length)


def _length(members: list[Account], primary: bool) -> int:
    """The window's length in seconds: what the accounts report, else the documented one."""
    for account in members:
        window = account.quota.primary if primary else account.quota.secondary
        if window is not None and window.window_minutes:
            return window.window_minutes * 60
    return PRIMARY_SECONDS if primary else SECONDARY_SECONDS


def neutral(pooled: PooledQuota, now: float | None = None) -> PooledQuota:
    """What a key without ``see_quota`` is shown: whether the pool can serve, nothing more. Each
    window is 0 % used and resets a window length from now while the pool has room; with no room
    both are 100 % and reset when the pool can serve again (what a 429's Retry-After tells any
    client anyway). No plan, no account count."""
    now = time.time() if now is None else now

    def window(w: PooledWindow) -> PooledWindow:
        if pooled.limit_reached:
            return PooledWindow(100, w.window_seconds, w.resets_at)
        return PooledWindow(0, w.window_seconds, int(now) + w.window_seconds)

    return PooledQuota(window(pooled.primary), window(pooled.secondary), None, pooled.limit_reached, 0)
