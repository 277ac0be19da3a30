"""Every account state transition the pool makes on a failure (issue 13): one error never parks
what is healthy, and only a limit the upstream reported becomes the client's 429.

Each row: the error an attempt raised, the cool-down it starts (reason, seconds), and what a
request gets while that is the only account: 429 only for limits, else 503 with Retry-After.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.accounts.pool import PROBATION_MAX, AccountPool, probation_for
from gptgate.upstreams.egress import EgressProxyUnavailable


def _account() -> Account:
    return Account(access_token="tok", id="acc_0", name="a0")


def _unavailable_refresh() -> errors.AccountUnauthorized:
    exc = errors.AccountUnauthorized("token expired", code="token_expired")
    exc.retry_after = 30.0  # what recover() sets when the token endpoint was down
    return exc


def _usage_limit() -> errors.UsageLimitReached:
    return errors.UsageLimitReached("limit", resets_at=time.time() + 600)


ROWS: list[tuple[str, Callable[[], errors.UpstreamError], str, float, int]] = [
    ("401 after a refresh", lambda: errors.AccountUnauthorized("expired"), "probation", 2, 503),
    ("403 challenge", lambda: errors.AccountForbidden("blocked"), "probation", 2, 503),
    (
        "403 no codex",
        lambda: errors.AccountForbidden("no", code="usage_not_included"),
        "usage_not_included",
        300,
        503,
    ),
    ("token endpoint down", _unavailable_refresh, "token_expired", 30, 503),
    (
        "proxy failed",
        lambda: EgressProxyUnavailable("down", retry_after=30),
        "egress_proxy_unavailable",
        30,
        503,
    ),
    ("usage limit", _usage_limit, "usage_limit_reached", 600, 429),
    (
        "rate limited",
        lambda: errors.UpstreamRateLimited("slow", retry_after=7),
        "rate_limit_exceeded",
        7,
        429,
    ),
]


@pytest.mark.parametrize(("what", "error", "reason", "seconds", "status"), ROWS, ids=[r[0] for r in ROWS])
async def test_each_failure_cools_for_its_cause_and_answers_for_it(
    what: str, error: Callable[[], errors.UpstreamError], reason: str, seconds: float, status: int
) -> None:
    account = _account()
    pool = AccountPool([account])
    await pool.penalize(account, error())
    cooling = await pool.state.cooldowns()
    assert cooling[account.id].reason == reason
    assert abs(cooling[account.id].until - time.time() - seconds) < 2
    with pytest.raises(errors.UpstreamError) as info:
        await pool.acquire()
    assert info.value.status == status, info.value.message
    assert info.value.retry_after is not None and abs(info.value.retry_after - seconds) <= 2
    if status == 503:
        assert info.value.code == "accounts_unavailable" and "rate" not in info.value.type


def test_probation_doubles_per_strike_up_to_a_minute() -> None:
    assert [probation_for(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert PROBATION_MAX == 60


async def test_a_success_ends_probation() -> None:
    account = _account()
    pool = AccountPool([account])
    for _ in range(3):
        await pool.penalize(account, errors.AccountUnauthorized("expired"))
    assert account.strikes == 3
    pool.succeeded(account)
    assert account.strikes == 0
    await pool.penalize(account, errors.AccountUnauthorized("expired"))
    assert account.strikes == 1  # the next refusal starts again at the first strike's length


async def test_a_limit_and_an_outage_together_are_not_the_clients_rate_limit() -> None:
    a, b = Account(access_token="t", id="a", name="a"), Account(access_token="t", id="b", name="b")
    pool = AccountPool([a, b])
    await pool.penalize(a, errors.UsageLimitReached("limit", resets_at=time.time() + 600))
    await pool.penalize(b, errors.AccountUnauthorized("expired"))
    with pytest.raises(errors.NoUsableAccount) as info:
        await pool.acquire()
    assert info.value.status == 503 and info.value.retry_after is not None and info.value.retry_after <= 2
    assert "probation" in info.value.message and "usage_limit_reached" in info.value.message
