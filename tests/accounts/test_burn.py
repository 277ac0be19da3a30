"""Burn projection: linear from the recent samples; none when flat, reset first, or too little."""

from __future__ import annotations

from gptgate.accounts.burn import BurnTracker, project
from gptgate.accounts.model import Account, Quota, QuotaWindow

T = 1_700_000_000.0


def test_linear_projection_to_100_percent() -> None:
    # 10 % -> 20 % in 600 s: 1 % a minute, 80 % left at T+600 -> T+600+4800
    assert project([(T, 10.0), (T + 300, 15.0), (T + 600, 20.0)], resets_at=T + 18000) == T + 5400
    assert project([(T, 10.0), (T + 600, 20.0)], resets_at=None) == T + 5400


def test_no_projection_when_flat_too_short_exhausted_or_reset_first() -> None:
    assert project([(T, 20.0), (T + 600, 20.0)], None) is None
    assert project([(T, 20.0)], None) is None
    assert project([(T, 10.0), (T + 10, 20.0)], None) is None  # 10 s say nothing
    assert project([(T, 90.0), (T + 600, 100.0)], None) is None
    assert project([(T, 10.0), (T + 600, 20.0)], resets_at=T + 3600) is None


def test_only_the_last_hour_counts() -> None:
    samples = [(T, 0.0), (T + 7200, 50.0), (T + 7800, 60.0)]
    assert project(samples, None) == T + 7800 + 40 * 60


def account(used: float, when: float, secondary: float | None = None) -> Account:
    acc = Account(access_token="x", name="seat", id="acc_1")
    acc.quota = Quota(
        primary=QuotaWindow(used, 300, T + 18000),
        secondary=None if secondary is None else QuotaWindow(secondary, 10080, T + 604800),
        updated_at=when,
    )
    return acc


def test_the_tracker_samples_new_snapshots_and_forgets_after_a_reset() -> None:
    tracker = BurnTracker()
    tracker.observe(account(10.0, T, 1.0))
    tracker.observe(account(10.0, T, 1.0))  # the same snapshot: no second sample
    seat = account(20.0, T + 600, 2.0)
    tracker.observe(seat)
    assert tracker.projection("acc_1", "primary", seat.quota.primary) == T + 5400
    assert tracker.projection("acc_1", "secondary", seat.quota.secondary) == T + 600 + 98 * 600
    reset = account(1.0, T + 700)
    tracker.observe(reset)
    assert tracker.projection("acc_1", "primary", reset.quota.primary) is None
    tracker.forget(set())
    assert tracker.projection("acc_1", "secondary", seat.quota.secondary) is None
