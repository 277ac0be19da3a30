"""One timer for many due times: an item whose due time moved later is not expired early, and
one added with an earlier due time than the timer's arms it for that. A fake loop's clock."""

from __future__ import annotations

from gptgate.due import DueTimer
from tests.dispatch.test_deadlines import Clock


class Item:
    def __init__(self, due: float) -> None:
        self.due = due
        self.expired = 0

    def expire(self) -> None:
        self.expired += 1


def test_an_item_pushed_back_is_expired_at_its_new_due_time_only() -> None:
    clock = Clock()
    timer = DueTimer(clock)  # type: ignore[arg-type]
    item = Item(10.0)
    timer.add(item)
    clock.now = 5.0
    item.due = 15.0  # a read came: the timeout starts again
    timer.add(item)
    clock.run_until(10.0)
    assert item.expired == 0 and clock.live() == [15.0]
    clock.run_until(15.0)
    assert item.expired == 1 and len(timer) == 0 and clock.live() == []


def test_an_earlier_item_rearms_the_timer_and_close_forgets_everything() -> None:
    clock = Clock()
    timer = DueTimer(clock)  # type: ignore[arg-type]
    late, early = Item(30.0), Item(10.0)
    timer.add(late)
    timer.add(early)
    assert clock.live() == [10.0]
    clock.run_until(10.0)
    assert (early.expired, late.expired) == (1, 0) and clock.live() == [30.0]
    timer.close()
    clock.run_until(100.0)
    assert late.expired == 0 and len(timer) == 0
