"""First-event deadlines: one loop timer for every open attempt of a dispatcher, not one each.

Every attempt of a dispatcher waits at most the same ``first_byte_timeout``, so its deadlines
come due in the order they were set. They are kept in that order (a dict keeps insertion order)
and one timer is armed, for the earliest. An attempt that gets its first event in time only
takes its entry out: a dict insert and pop per turn, where a ``call_at`` and its ``cancel`` cost
about 1.7 µs on uvloop. When the timer fires it expires what is due, oldest first, and is armed
again for the next entry, if any (under steady traffic: once per timeout, not once per turn).

An expired attempt's task is cancelled, as ``asyncio.timeout`` does; :attr:`Deadline.fired`
tells that cancellation from any other (the client leaving).
"""

from __future__ import annotations

import asyncio


class Deadline:
    """One attempt's deadline: the task it cancels when due, and whether it did."""

    __slots__ = ("at", "fired", "task")

    def __init__(self, task: asyncio.Task[object], at: float) -> None:
        self.task = task
        self.at = at
        self.fired = False


class Deadlines:
    """The open deadlines of one event loop, each ``seconds`` after it was started."""

    __slots__ = ("_handle", "_pending", "loop", "seconds")

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        self.loop = loop
        self.seconds = seconds
        #: started and not yet stopped or fired, oldest (so earliest due) first
        self._pending: dict[Deadline, None] = {}
        self._handle: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def start(self, task: asyncio.Task[object]) -> Deadline:
        """``task`` is cancelled ``seconds`` from now unless :meth:`stop` comes first."""
        deadline = Deadline(task, self.loop.time() + self.seconds)
        self._pending[deadline] = None
        if self._handle is None:
            self._handle = self.loop.call_at(deadline.at, self._expire)
        return deadline

    def stop(self, deadline: Deadline) -> None:
        """No cancellation for ``deadline`` any more (nothing happens if it already fired)."""
        self._pending.pop(deadline, None)

    def _expire(self) -> None:
        self._handle = None
        pending = self._pending
        now = self.loop.time()
        while pending:
            deadline = next(iter(pending))
            if deadline.at > now:
                self._handle = self.loop.call_at(deadline.at, self._expire)
                return
            del pending[deadline]
            deadline.fired = True
            deadline.task.cancel()
