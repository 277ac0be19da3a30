"""The pool's choices on the in-process state: strategies, stickiness, cooldowns, exhaustion."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from gptgate import errors
from gptgate.accounts.model import Account, Quota, QuotaWindow
from gptgate.accounts.pool import STRATEGIES, AccountPool, Strategy, model_caps
from gptgate.state.memory import MemoryState


def accounts(n: int) -> list[Account]:
    return [Account(access_token=f"tok-{i}", id=f"acc_{i}", name=f"a{i}") for i in range(n)]


async def test_round_robin_spreads_requests_evenly() -> None:
    pool = AccountPool(accounts(3))
    seen: Counter[str] = Counter()
    for _ in range(30):
        account = await pool.acquire()
        seen[account.id] += 1
        await pool.release(account)
    assert seen == {"acc_0": 10, "acc_1": 10, "acc_2": 10}


async def test_least_busy_picks_the_idlest() -> None:
    pool = AccountPool(accounts(3), strategy="least_busy")
    held = [await pool.acquire(), await pool.acquire()]
    assert {a.id for a in held} == {"acc_0", "acc_1"}
    assert (await pool.acquire()).id == "acc_2"
    await pool.release(held[0])
    assert (await pool.acquire()).id == "acc_0"


async def test_quota_headroom_prefers_the_most_quota_left() -> None:
    accs = accounts(3)
    now = time.time()
    accs[0].quota = Quota(primary=QuotaWindow(80.0, 300, now + 600))
    accs[1].quota = Quota(
        primary=QuotaWindow(10.0, 300, now + 600), secondary=QuotaWindow(95.0, 10080, now + 9e4)
    )
    accs[2].quota = Quota(primary=QuotaWindow(90.0, 300, now - 1))  # window already reset: full
    pool = AccountPool(accs, strategy="quota_headroom")
    assert (await pool.acquire()).id == "acc_2"
    accs[2].quota = Quota(primary=QuotaWindow(50.0, 300, now + 600))
    assert (await pool.acquire()).id == "acc_2"
    accs[2].quota = Quota(primary=QuotaWindow(85.0, 300, now + 600))
    assert (await pool.acquire()).id == "acc_0"


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_sticky_sessions_stay_on_one_account_until_it_cools(strategy: Strategy) -> None:
    pool = AccountPool(accounts(5), strategy=strategy)
    first = await pool.acquire("session-a")
    for _ in range(200):
        account = await pool.acquire("session-a")
        assert account is first
        await pool.release(account)
    await pool.penalize(first, errors.UsageLimitReached("limit", resets_at=time.time() + 600))
    moved = await pool.acquire("session-a")
    assert moved is not first
    for _ in range(20):
        assert (await pool.acquire("session-a")) is moved


async def test_sessions_spread_over_the_pool() -> None:
    pool = AccountPool(accounts(4))
    chosen: Counter[str] = Counter()
    for i in range(40):
        chosen[(await pool.acquire(f"s{i}")).id] += 1
    assert set(chosen.values()) == {10}


async def test_cooling_accounts_are_skipped_and_exhaustion_says_when() -> None:
    accs = accounts(2)
    pool = AccountPool(accs)
    soon, later = time.time() + 120, time.time() + 3600
    await pool.penalize(accs[0], errors.UsageLimitReached("limit", resets_at=later))
    assert (await pool.acquire()).id == "acc_1"
    await pool.penalize(accs[1], errors.UsageLimitReached("limit", resets_at=soon))
    with pytest.raises(errors.PoolExhausted) as info:
        await pool.acquire()
    assert info.value.status == 429
    assert info.value.retry_after is not None and 115 <= info.value.retry_after <= 120
    assert "pool is exhausted" in info.value.message and "usage_limit_reached" in info.value.message


async def test_accounts_out_of_rotation_are_never_picked() -> None:
    accs = accounts(3)
    accs[0].status = "needs_relogin"
    accs[1].status = "disabled"
    pool = AccountPool(accs)
    for _ in range(5):
        assert (await pool.acquire()).id == "acc_2"
    accs[2].status = "deactivated"
    with pytest.raises(errors.NoUsableAccount) as info:
        await pool.acquire()
    assert info.value.status == 503
    assert "1 deactivated, 1 disabled, 1 needs relogin" in info.value.message


async def test_exclude_moves_a_retry_to_another_account() -> None:
    pool = AccountPool(accounts(2))
    a = await pool.acquire()
    b = await pool.acquire(None, {a.id})
    assert b is not a
    with pytest.raises(errors.NoUsableAccount) as info:  # they failed: no limit to blame
        await pool.acquire(None, {a.id, b.id})
    assert info.value.status == 503 and info.value.code == "accounts_unavailable"


async def test_put_and_drop_keep_the_pool_current() -> None:
    pool = AccountPool(accounts(1))
    pool.put(Account(access_token="new", id="acc_0", name="a0"))
    assert pool.get("acc_0") is not None and pool.get("acc_0").access_token == "new"  # type: ignore[union-attr]
    pool.drop("acc_0")
    with pytest.raises(errors.NoUsableAccount):
        await pool.acquire()


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_only_accounts_that_serve_the_upstream_are_picked(strategy: Strategy) -> None:
    accs = accounts(3)
    accs[0].upstreams = frozenset({"chatgpt_web"})
    accs[1].upstreams = frozenset({"codex"})
    accs[2].upstreams = None  # every upstream
    pool = AccountPool(accs, strategy=strategy)
    seen: Counter[str] = Counter()
    for _ in range(64):  # the random strategy too meets both (p of not: 2**-63)
        account = await pool.acquire(None, None, "codex")
        seen[account.id] += 1
        await pool.release(account)
    assert set(seen) == {"acc_1", "acc_2"}
    web = await pool.acquire("session-1", None, "chatgpt_web")
    assert web.id in ("acc_0", "acc_2")
    await pool.release(web)
    # a session bound to an account is not kept on it for an upstream it does not serve
    bound = await pool.acquire("session-2", None, "codex")
    await pool.release(bound)
    assert (await pool.acquire("session-2", None, "chatgpt_web")).id in ("acc_0", "acc_2")


async def test_no_account_for_an_upstream_is_said_plainly() -> None:
    accs = accounts(2)
    for a in accs:
        a.upstreams = frozenset({"codex"})
    pool = AccountPool(accs)
    with pytest.raises(errors.NoUsableAccount, match="may serve the chatgpt_web upstream"):
        await pool.acquire(None, None, "chatgpt_web")


def cap(model: str, clears_in: float) -> errors.UsageLimitReached:
    """A message cap as the web upstream raises it (a usage limit of one model)."""
    exc = errors.UsageLimitReached("cap", resets_at=time.time() + clears_in)
    exc.model = model
    return exc


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_a_message_cap_cools_only_that_account_and_model(strategy: Strategy) -> None:
    accs = accounts(2)
    pool = AccountPool(accs, strategy=strategy)
    await pool.penalize(accs[0], cap("gpt-4o-slug", 600), "gpt-4o")
    assert accs[0].cooldown_until == 0.0  # the account itself is not cooling
    for _ in range(6):  # gpt-4o only from the other account, sticky session or not
        for key in (None, "session-a"):
            account = await pool.acquire(key, None, "chatgpt_web", "gpt-4o")
            assert account.id == "acc_1"
            await pool.release(account)
    other: set[str] = set()
    for _ in range(64):  # enough picks that the random strategy meets both (p of not: 2**-63)
        account = await pool.acquire(None, None, "chatgpt_web", "o3")
        other.add(account.id)
        await pool.release(account)
    assert other == {"acc_0", "acc_1"}  # every other model still uses both
    assert model_caps(await pool.state.cooldowns(), "acc_0") == {
        "gpt-4o": pytest.approx(time.time() + 600, abs=2)
    }
    assert model_caps(await pool.state.cooldowns(), "acc_1") == {}


async def test_every_account_capped_for_a_model_is_a_429_naming_it() -> None:
    accs = accounts(2)
    pool = AccountPool(accs)
    await pool.penalize(accs[0], cap("gpt-4o", 900), "gpt-4o")
    await pool.penalize(accs[1], cap("gpt-4o", 300), "gpt-4o")
    with pytest.raises(errors.PoolExhausted) as info:
        await pool.acquire(None, None, "chatgpt_web", "gpt-4o")
    assert info.value.status == 429 and info.value.code == "model_cap_exceeded"
    assert info.value.headers == {"Retry-After": "300"}
    assert info.value.message.startswith("every account (2) reached its message cap for the model gpt-4o;")
    assert (await pool.acquire(None, None, "chatgpt_web", "o3")).id in ("acc_0", "acc_1")


async def test_a_cap_without_the_calls_model_uses_the_one_the_error_names() -> None:
    accs = accounts(1)
    pool = AccountPool(accs)
    await pool.penalize(accs[0], cap("o3", 60))
    assert sorted(await pool.state.cooldowns()) == ["acc_0/o3"]
    with pytest.raises(errors.PoolExhausted, match="message cap for the model o3"):
        await pool.acquire(None, None, None, "o3")


class _AwaitedState(MemoryState):
    """The in-process state seen as any other state: the pool awaits its PoolState methods."""


async def test_the_in_process_fast_path_keeps_the_same_books_as_an_awaited_state() -> None:
    """With the in-process state the pool calls its synchronous forms (no coroutine per call);
    the leases, the sticky map and the cooldowns it keeps are those of the awaited path."""
    books = []
    for state in (MemoryState(), _AwaitedState()):
        pool = AccountPool(accounts(3), state)
        assert (pool._local is state) is (type(state) is MemoryState)
        first = await pool.acquire("conv-1")
        again = await pool.acquire("conv-1")
        other = await pool.acquire("conv-2")
        await state.set_cooldown(other.id, time.time() + 60, "rate_limit_exceeded")
        moved = await pool.acquire("conv-2")
        await pool.release(again)
        books.append(
            (
                first.id,
                again.id,
                other.id,
                moved.id,
                await state.in_flight(),
                await state.sticky_get("conv-1"),
                await state.sticky_get("conv-2"),
                sorted(await state.cooldowns()),
            )
        )
    assert books[0] == books[1]
    assert books[0][:4] == ("acc_0", "acc_0", "acc_1", "acc_2")
    assert books[0][4:] == ({"acc_0": 1, "acc_1": 1, "acc_2": 1}, "acc_0", "acc_2", ["acc_1"])
