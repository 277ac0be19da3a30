"""The serving worker's collector: a clock, not allocation counts; cyclic garbage still goes."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from gptgate.collector import BACKSTOP, TimedCollector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


async def test_start_freezes_the_heap_and_counts_only_as_a_backstop() -> None:
    before = gc.get_threshold()
    collector = TimedCollector(tick=60)
    collector.start()
    try:
        assert gc.get_threshold() == BACKSTOP
        assert gc.get_freeze_count() > 0
    finally:
        collector.stop()
    assert gc.get_threshold() == before


async def test_a_cycle_made_while_serving_is_collected_by_the_next_tick() -> None:
    collected: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collected.append(info["generation"])

    collector = TimedCollector(tick=0.05)
    collector.start()
    gc.callbacks.append(seen)
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: reference counting alone never frees it
        gone = weakref.ref(a)
        del a, b
        for _ in range(100):  # bounded: a tick is 50 ms
            await asyncio.sleep(0.05)
            if gone() is None:
                break
        assert gone() is None
        assert collected and set(collected) <= {0, 1, 2}
    finally:
        gc.callbacks.remove(seen)
        collector.stop()
