"""The ``PoolState`` contract (base.py), asked of every implementation (the ``state`` fixture)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from gptgate.state import LockTimeout, PoolState


async def test_cooldown_keeps_the_later_until(state: PoolState) -> None:
    now = time.time()
    await state.set_cooldown("a", now + 100, "usage_limit")
    await state.set_cooldown("a", now + 50, "unauthorized")
    cooldown = (await state.cooldowns())["a"]
    assert cooldown.reason == "usage_limit"
    assert cooldown.until == pytest.approx(now + 100)
    await state.set_cooldown("a", now + 200, "forbidden")
    cooldown = (await state.cooldowns())["a"]
    assert cooldown.reason == "forbidden"
    assert cooldown.until == pytest.approx(now + 200)


async def test_cooldown_clear_and_expiry(state: PoolState) -> None:
    now = time.time()
    await state.set_cooldown("a", now + 100, "x")
    await state.set_cooldown("b", now + 0.2, "y y")
    await state.set_cooldown("c", now - 1, "past")
    assert sorted(await state.cooldowns()) == ["a", "b"]
    assert (await state.cooldowns())["b"].reason == "y y"
    await state.clear_cooldown("a")
    await state.clear_cooldown("never-cooled")
    assert sorted(await state.cooldowns()) == ["b"]
    await asyncio.sleep(0.3)
    assert await state.cooldowns() == {}
    await state.set_cooldown("b", time.time() + 100, "again")  # a stale entry does not win
    assert (await state.cooldowns())["b"].reason == "again"


async def test_sticky_binding_expires(state: PoolState) -> None:
    await state.sticky_set("s1", "a", 0.2)
    await state.sticky_set("s2", "b", 100)
    assert await state.sticky_get("s1") == "a"
    assert await state.sticky_get("missing") is None
    await asyncio.sleep(0.3)
    assert await state.sticky_get("s1") is None
    assert await state.sticky_get("s2") == "b"
    await state.sticky_set("s2", "c", 100)
    assert await state.sticky_get("s2") == "c"
    await state.sticky_drop("s2")
    await state.sticky_drop("s2")
    assert await state.sticky_get("s2") is None


async def test_sticky_get_with_ttl_slides_the_expiry(state: PoolState) -> None:
    await state.sticky_set("slide", "a", 0.4)
    await state.sticky_set("fixed", "a", 0.4)
    await asyncio.sleep(0.25)
    assert await state.sticky_get("slide", ttl=0.4) == "a"
    assert await state.sticky_get("fixed") == "a"  # no ttl: expiry untouched
    await asyncio.sleep(0.25)
    assert await state.sticky_get("slide") == "a"
    assert await state.sticky_get("fixed") is None


async def test_leases_count_and_never_go_negative(state: PoolState) -> None:
    for account in ("a", "a", "a", "b"):
        await state.lease(account)
    assert await state.in_flight() == {"a": 3, "b": 1}
    await state.unlease("a")
    await state.unlease("b")
    await state.unlease("b")
    await state.unlease("never")
    assert await state.in_flight() == {"a": 2}
    await state.lease("b")
    assert await state.in_flight() == {"a": 2, "b": 1}


async def test_lock_excludes(state: PoolState) -> None:
    counter = inside = most = 0

    async def bump() -> None:
        nonlocal counter, inside, most
        async with state.lock("refresh:a", ttl=10, timeout=10):
            inside += 1
            most = max(most, inside)
            seen = counter
            await asyncio.sleep(0.001)
            counter = seen + 1
            inside -= 1

    async with asyncio.timeout(20):
        await asyncio.gather(*(bump() for _ in range(20)))
    assert (counter, most) == (20, 1)


async def test_locks_with_other_names_do_not_wait(state: PoolState) -> None:
    async with asyncio.timeout(5), state.lock("one", ttl=10) as one, state.lock("two", ttl=10) as two:
        assert (one.name, two.name, one.waited, two.waited) == ("one", "two", False, False)


async def test_lock_times_out(state: PoolState) -> None:
    async with state.lock("busy", ttl=10):
        start = time.monotonic()
        with pytest.raises(LockTimeout):
            async with state.lock("busy", ttl=10, timeout=0.2):
                pytest.fail("took a held lock")
        assert 0.15 <= time.monotonic() - start < 2
    async with asyncio.timeout(5), state.lock("busy", ttl=10, timeout=1) as held:
        assert not held.waited


async def test_lock_waiter_gets_it_on_release(state: PoolState) -> None:
    holding = asyncio.Event()

    async def hold() -> None:
        async with state.lock("handoff", ttl=10):
            holding.set()
            await asyncio.sleep(0.1)

    holder = asyncio.create_task(hold())
    await holding.wait()
    start = time.monotonic()
    async with state.lock("handoff", ttl=10, timeout=5) as held:
        assert held.waited
        assert time.monotonic() - start < 0.4  # woken by the release, not by a long poll
    await holder


async def test_expired_holder_does_not_release_the_next_holder(state: PoolState) -> None:
    late_holder_done = asyncio.Event()

    async def slow_holder() -> None:
        async with state.lock("ttl", ttl=0.2) as held:
            assert not held.waited
            await asyncio.sleep(0.5)  # outlives its TTL
        late_holder_done.set()

    task = asyncio.create_task(slow_holder())
    await asyncio.sleep(0.05)
    async with asyncio.timeout(5), state.lock("ttl", ttl=10, timeout=3) as second:
        assert second.waited
        await late_holder_done.wait()  # the first holder's release ran, and must not free ours
        with pytest.raises(LockTimeout):
            async with state.lock("ttl", ttl=10, timeout=0.2):
                pytest.fail("the expired holder released someone else's lock")
    await task
    async with asyncio.timeout(5), state.lock("ttl", ttl=10, timeout=1) as third:
        assert not third.waited


async def _next(messages: AsyncIterator[str]) -> str:
    async with asyncio.timeout(5):
        return await anext(messages)


async def test_publish_reaches_every_subscriber_in_order(state: PoolState) -> None:
    async with state.subscribe("accounts") as first, state.subscribe("accounts") as second:
        async with state.subscribe("other") as other:
            await state.publish("accounts", "reload acct-1")
            await state.publish("accounts", "reload acct-2")
            await state.publish("nobody-listens", "x")
            for messages in (first, second):
                assert [await _next(messages), await _next(messages)] == ["reload acct-1", "reload acct-2"]
            await state.publish("other", "last")
            assert await _next(other) == "last"
        await state.publish("other", "after the end")
    async with state.subscribe("accounts") as again:
        await state.publish("accounts", "fresh")
        assert await _next(again) == "fresh"  # earlier messages were not queued for it


async def test_model_cap_pairs_ride_the_cooldowns_beside_their_account(state: PoolState) -> None:
    """The pool's per-model caps are cooldowns under ``"<account id>/<model>"``: kept, read,
    cleared and expired like an account's own, without touching the account's."""
    now = time.time()
    await state.set_cooldown("acc_1/gpt-4o", now + 100, "model_cap_exceeded")
    await state.set_cooldown("acc_1/o3", now + 0.2, "model_cap_exceeded")
    await state.set_cooldown("acc_1/gpt-4o", now + 50, "model_cap_exceeded")  # the later one stays
    cooling = await state.cooldowns()
    assert sorted(cooling) == ["acc_1/gpt-4o", "acc_1/o3"]
    assert cooling["acc_1/gpt-4o"].until == pytest.approx(now + 100)
    await state.set_cooldown("acc_1", now + 100, "usage_limit_reached")
    await state.clear_cooldown("acc_1")  # clearing the account leaves its caps
    assert sorted(await state.cooldowns()) == ["acc_1/gpt-4o", "acc_1/o3"]
    await asyncio.sleep(0.3)
    assert sorted(await state.cooldowns()) == ["acc_1/gpt-4o"]
