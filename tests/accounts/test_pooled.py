"""The pool's combined quota windows (``accounts/pooled.py``), figure by figure."""

from __future__ import annotations

from gptgate.accounts.model import Account, Quota, QuotaWindow
from gptgate.accounts.pooled import PooledQuota, PooledWindow, neutral, pooled_quota

NOW = 1_800_000_000.0


def account(name: str, primary: float | None, secondary: float | None = None, **kw: object) -> Account:
    quota = Quota(
        primary=QuotaWindow(primary, 300, NOW + 3600) if primary is not None else None,
        secondary=QuotaWindow(secondary, 10080, NOW + 86400) if secondary is not None else None,
        plan_type="pro",
        updated_at=NOW,
    )
    return Account(access_token="t", name=name, id=name, quota=quota, plan="pro", **kw)  # type: ignore[arg-type]


def test_mean_use_with_room_and_the_earliest_reset() -> None:
    pooled = pooled_quota([account("a", 100.0, 40.0), account("b", 10.0, 20.0)], {}, now=NOW)
    assert pooled == PooledQuota(
        primary=PooledWindow(55, 18000, int(NOW) + 3600),
        secondary=PooledWindow(30, 604800, int(NOW) + 86400),
        plan="pro",
        limit_reached=False,
        members=2,
    )


def test_a_cooling_account_is_spent_in_the_five_hour_window_until_its_cooldown_ends() -> None:
    pooled = pooled_quota([account("a", 0.0), account("b", 0.0)], {"a": NOW + 120}, now=NOW)
    assert pooled.primary == PooledWindow(50, 18000, int(NOW) + 120)
    assert pooled.secondary == PooledWindow(0, 604800, int(NOW) + 604800)  # unused: a window from now
    assert not pooled.limit_reached


def test_room_caps_the_share_at_99_and_none_left_is_100() -> None:
    almost = pooled_quota([account("a", 100.0), account("b", 99.5)], {}, now=NOW)
    assert (almost.primary.used_percent, almost.limit_reached) == (99, False)
    spent = pooled_quota([account("a", 100.0), account("b", 100.0)], {}, now=NOW)
    assert (spent.primary.used_percent, spent.limit_reached) == (100, True)
    weekly = pooled_quota([account("a", 0.0, 100.0)], {}, now=NOW)  # the weekly window is spent
    assert weekly.limit_reached and weekly.primary.used_percent == 100


def test_past_resets_unknown_windows_and_unusable_accounts() -> None:
    old = account("a", 100.0)
    assert old.quota.primary is not None
    old.quota.primary.resets_at = NOW - 1  # reset since: nothing used
    disabled = account("c", 100.0, status="disabled")
    web_only = account("d", 100.0, upstreams=frozenset({"chatgpt_web"}))
    pooled = pooled_quota([old, account("b", None), disabled, web_only], {}, now=NOW)
    assert (pooled.primary.used_percent, pooled.members) == (0, 2)
    assert pooled_quota([], {}, now=NOW).limit_reached


def test_the_neutral_view_tells_only_whether_the_pool_can_serve() -> None:
    roomy = neutral(pooled_quota([account("a", 70.0, 90.0)], {}, now=NOW), now=NOW)
    assert roomy == PooledQuota(
        PooledWindow(0, 18000, int(NOW) + 18000), PooledWindow(0, 604800, int(NOW) + 604800), None, False, 0
    )
    spent = neutral(pooled_quota([account("a", 100.0)], {}, now=NOW), now=NOW)
    assert spent.primary == PooledWindow(100, 18000, int(NOW) + 3600) and spent.limit_reached
