"""Background: one task per component, started once, cancelled and awaited on stop."""

from __future__ import annotations

import asyncio

from gptgate.background import Background


async def test_started_once_and_stopped_for_good() -> None:
    runs: list[str] = []
    stopped = asyncio.Event()

    async def run() -> None:
        runs.append("run")
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    task = Background()
    assert not task.running
    task.start(run)
    task.start(run)  # already running: no second task
    await asyncio.sleep(0)
    assert task.running and runs == ["run"]
    await task.stop()
    assert stopped.is_set() and not task.running
    await task.stop()  # stopping twice is harmless
    task.start(run)  # and it can start again
    await asyncio.sleep(0)
    assert runs == ["run", "run"]
    await task.stop()
