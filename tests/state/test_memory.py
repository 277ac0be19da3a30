"""What only the in-process state does: keep the sticky map from growing without bound."""

from __future__ import annotations

import asyncio

from gptgate.state import memory
from gptgate.state.memory import MemoryState


async def test_expired_sticky_bindings_are_swept() -> None:
    state = MemoryState()
    for i in range(memory.STICKY_SWEEP_MIN - 1):
        await state.sticky_set(f"old-{i}", "a", 0.05)
    await asyncio.sleep(0.1)
    await state.sticky_set("new", "b", 60)  # the set that reaches the threshold sweeps
    assert len(state._sticky) == 1
    assert await state.sticky_get("new") == "b"


async def test_close_drops_leases() -> None:
    state = MemoryState()
    await state.lease("a")
    await state.close()
    assert await state.in_flight() == {}
