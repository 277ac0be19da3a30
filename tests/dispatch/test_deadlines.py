"""First-event deadlines share one loop timer: armed for the earliest, re-armed for the next when
it fires early, each due deadline cancelling its task once. Time here is a fake loop's clock (no
test waits), or 0 s on a real loop (due on its next turn)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from gptgate.dispatch.deadlines import Deadlines


class Clock:
    """The two loop methods ``Deadlines`` uses: ``time`` and ``call_at`` (handles kept to fire)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.armed: list[tuple[float, Callable[[], None], Handle]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> Handle:
        handle = Handle()
        self.armed.append((when, callback, handle))
        return handle

    def run_until(self, when: float) -> None:
        """Advance to ``when``, firing the armed callbacks that are due, in order."""
        while True:
            due = [a for a in self.armed if a[0] <= when and not a[2].cancelled]
            if not due:
                break
            at, callback, handle = min(due, key=lambda a: a[0])
            self.armed.remove((at, callback, handle))
            self.now = at
            callback()
        self.now = when

    def live(self) -> list[float]:
        return [a[0] for a in self.armed if not a[2].cancelled]


class Handle:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Task:
    def __init__(self) -> None:
        self.cancels = 0

    def cancel(self) -> bool:
        self.cancels += 1
        return True


def deadlines(clock: Clock, seconds: float = 10.0) -> Deadlines:
    return Deadlines(clock, seconds)  # type: ignore[arg-type]


def start(d: Deadlines, task: Task) -> Any:
    return d.start(task)  # type: ignore[arg-type]


def test_one_timer_for_many_deadlines_armed_for_the_earliest() -> None:
    clock = Clock()
    d = deadlines(clock)
    a, b = Task(), Task()
    start(d, a)
    clock.now = 1.0
    start(d, b)
    assert clock.live() == [10.0]  # one timer, at the first deadline
    assert len(d) == 2


def test_a_stopped_head_rearms_the_timer_for_the_next_and_the_next_fires() -> None:
    clock = Clock()
    d = deadlines(clock)
    a, b = Task(), Task()
    first = start(d, a)
    clock.now = 1.0
    second = start(d, b)
    d.stop(first)
    clock.run_until(10.0)  # the timer fires for a deadline that is gone: armed again for b's
    assert (a.cancels, b.cancels) == (0, 0)
    assert clock.live() == [11.0]
    clock.run_until(11.0)
    assert (a.cancels, b.cancels) == (0, 1)
    assert (first.fired, second.fired) == (False, True)
    assert clock.live() == [] and len(d) == 0


def test_every_due_deadline_fires_once_and_a_later_one_waits() -> None:
    clock = Clock()
    d = deadlines(clock)
    tasks = [Task() for _ in range(3)]
    for i, task in enumerate(tasks):
        clock.now = float(i)  # due at 10, 11, 12
        start(d, task)
    clock.run_until(11.5)
    assert [t.cancels for t in tasks] == [1, 1, 0]
    assert clock.live() == [12.0]
    clock.run_until(100.0)
    assert [t.cancels for t in tasks] == [1, 1, 1]
    d.stop(d.start(Task()))  # type: ignore[arg-type]  # after everything fired: armed afresh, then stopped
    assert len(d) == 0


def test_stop_after_firing_changes_nothing() -> None:
    clock = Clock()
    d = deadlines(clock)
    task = Task()
    deadline = start(d, task)
    clock.run_until(10.0)
    d.stop(deadline)
    assert deadline.fired and task.cancels == 1


async def test_on_a_real_loop_a_due_deadline_cancels_its_task() -> None:
    d = Deadlines(asyncio.get_running_loop(), 0.0)
    waiting = asyncio.ensure_future(asyncio.Event().wait())
    spared = asyncio.ensure_future(asyncio.Event().wait())
    await asyncio.sleep(0)
    fired = d.start(waiting)  # type: ignore[arg-type]
    d.stop(d.start(spared))  # type: ignore[arg-type]
    for _ in range(10):  # the timer's turn, then the cancelled task's
        await asyncio.sleep(0)
        if waiting.done():
            break
    assert fired.fired and waiting.cancelled()
    assert not spared.done()
    spared.cancel()
