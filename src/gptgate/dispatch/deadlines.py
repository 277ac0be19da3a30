"""First-event deadlines: one loop timer for every open attempt of a dispatcher, not one each.

An attempt that gets its first event in time only adds its deadline to the dispatcher's
:class:`~gptgate.due.DueTimer` and takes it out again (set operations, where a ``call_at`` and
its ``cancel`` cost about 1.7 µs on uvloop). An expired attempt's task is cancelled, as
``asyncio.timeout`` does; :attr:`Deadline.fired` tells that cancellation from any other (the
client leaving).
"""

from __future__ import annotations

import asyncio

from gptgate.due import DueTimer


class Deadline:
    """One attempt's deadline: the task it cancels when due, and whether it did."""

    __slots__ = ("due", "fired", "task")

    def __init__(self, task: asyncio.Task[object], due: float) -> None:
        self.task = task
        self.due = due
        self.fired = False

    def expire(self) -> None:
        self.fired = True
        self.task.cancel()


class Deadlines(DueTimer):
    """The open deadlines of one event loop, each ``seconds`` after it was started (a
    :class:`~gptgate.due.DueTimer` itself, so starting and stopping one is one call each)."""

    __slots__ = ("seconds",)

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        super().__init__(loop)
        self.seconds = seconds

    def start(self, task: asyncio.Task[object]) -> Deadline:
        """``task`` is cancelled ``seconds`` from now unless :meth:`stop` comes first."""
        deadline = Deadline(task, self.loop.time() + self.seconds)
        self._items.add(deadline)  # DueTimer.add, written out
        if self._handle is None or deadline.due < self._armed_at:
            self._arm(deadline.due)
        return deadline

    def stop(self, deadline: Deadline) -> None:
        """No cancellation for ``deadline`` any more (nothing happens if it already fired)."""
        self._items.discard(deadline)
