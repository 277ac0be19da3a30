"""Limit counters and concurrency slots: the same behaviour from the in-process and Redis states."""

from __future__ import annotations

import asyncio
import time

from gptgate.state import PoolState
from gptgate.state.base import Check, Slot
from gptgate.state.redis import RedisState
from tests.servers.redis import unique_prefix


async def test_a_window_admits_up_to_its_limit_then_refuses(state: PoolState) -> None:
    ends = time.time() + 60
    rpm = Check("rpm:key_a:1", 2, ends, add=1)
    assert await state.limit_admit([rpm], None) is None
    assert await state.limit_admit([rpm], None) is None
    assert await state.limit_admit([rpm], None) == rpm
    other = Check("rpm:key_b:1", 2, ends, add=1)
    assert await state.limit_admit([other], None) is None


async def test_a_refused_call_counts_nothing(state: PoolState) -> None:
    ends = time.time() + 60
    tokens = Check("tpm:k:1", 100, ends)
    await state.limit_close(None, [Check("tpm:k:1", 0, ends, add=100)])
    rpm = Check("rpm:k:1", 5, ends, add=1)
    assert await state.limit_admit([rpm, tokens], None) == tokens
    assert await state.limit_admit([Check("rpm:k:1", 1, ends, add=1)], None) is None  # rpm still 0


async def test_a_window_ends_at_its_time(state: PoolState) -> None:
    rpm = Check("rpm:k:2", 1, time.time() + 0.3, add=1)
    assert await state.limit_admit([rpm], None) is None
    assert await state.limit_admit([rpm], None) == rpm
    await asyncio.sleep(0.45)
    fresh = Check("rpm:k:2", 1, time.time() + 60, add=1)
    assert await state.limit_admit([fresh], None) is None


async def test_slots_are_held_until_closed(state: PoolState) -> None:
    one, two, three = (Slot("conc:k", 2, f"call{i}", 60) for i in (1, 2, 3))
    assert await state.limit_admit([], one) is None
    assert await state.limit_admit([], two) is None
    assert await state.limit_admit([], three) == three
    await state.limit_close(one, [])
    assert await state.limit_admit([], three) is None


async def test_a_slot_frees_itself_after_its_ttl(state: PoolState) -> None:
    first, second = Slot("conc:t", 1, "a", 0.2), Slot("conc:t", 1, "b", 0.2)
    assert await state.limit_admit([], first) is None
    assert await state.limit_admit([], second) == second
    await asyncio.sleep(0.3)
    assert await state.limit_admit([], second) is None


async def test_a_full_slot_set_refuses_before_counting(state: PoolState) -> None:
    ends = time.time() + 60
    rpm = Check("rpm:k:3", 10, ends, add=1)
    assert await state.limit_admit([rpm], Slot("conc:c", 1, "a", 60)) is None
    blocked = Slot("conc:c", 1, "b", 60)
    assert await state.limit_admit([rpm], blocked) == blocked
    assert await state.limit_admit([Check("rpm:k:3", 2, ends, add=1)], None) is None  # 1 + 1
    assert await state.limit_admit([Check("rpm:k:3", 2, ends, add=1)], None) is not None


async def test_close_adds_tokens_to_each_window(state: PoolState) -> None:
    ends = time.time() + 60
    await state.limit_close(None, [Check("day:k", 0, ends, add=700), Check("tpm:k:9", 0, ends, add=700)])
    await state.limit_close(None, [Check("day:k", 0, ends, add=400)])
    assert await state.limit_admit([Check("day:k", 1101, ends)], None) is None
    assert await state.limit_admit([Check("day:k", 1100, ends)], None) == Check("day:k", 1100, ends)


async def test_seed_sets_a_counter_only_when_absent(state: PoolState) -> None:
    ends = time.time() + 60
    await state.limit_seed("month:k", 500, ends)
    await state.limit_seed("month:k", 10, ends)  # another process's seed: the first one stands
    assert await state.limit_admit([Check("month:k", 500, ends)], None) == Check("month:k", 500, ends)
    assert await state.limit_admit([Check("month:k", 501, ends)], None) is None


async def test_two_processes_share_windows_and_slots(redis_url: str) -> None:
    prefix = unique_prefix()
    a, b = RedisState(redis_url, prefix), RedisState(redis_url, prefix)
    try:
        ends = time.time() + 60
        rpm = Check("rpm:shared", 3, ends, add=1)
        results = [await s.limit_admit([rpm], None) for s in (a, b, a, b)]
        assert results == [None, None, None, rpm]
        slot_a, slot_b = Slot("conc:shared", 1, "x", 60), Slot("conc:shared", 1, "y", 60)
        assert await a.limit_admit([], slot_a) is None
        assert await b.limit_admit([], slot_b) == slot_b
        await a.limit_close(slot_a, [])
        assert await b.limit_admit([], slot_b) is None
    finally:
        await a.close()
        await b.close()


async def test_a_dead_process_slots_are_freed(redis_url: str) -> None:
    prefix = unique_prefix()
    dead = RedisState(redis_url, prefix, lease_ttl=0.3)
    alive = RedisState(redis_url, prefix)
    try:
        assert await dead.limit_admit([], Slot("conc:crash", 1, "a", 600)) is None
        for task in dead._tasks:  # stops renewing its registration, as a killed process would
            task.cancel()
        blocked = Slot("conc:crash", 1, "b", 600)
        assert await alive.limit_admit([], blocked) == blocked
        await asyncio.sleep(0.5)
        assert await alive.limit_admit([], blocked) is None
    finally:
        await alive.close()
        dead._tasks = []
        await dead.close()
