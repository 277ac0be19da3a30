"""The cooldown mirror keeps Redis's order whichever way it hears of a change first."""

from __future__ import annotations

import time

from gptgate.state.mirror import CooldownMirror

LATER = str(time.time() + 600)


def test_a_late_reply_does_not_undo_a_newer_announcement() -> None:
    mirror = CooldownMirror()
    mirror.announced(f"1\na\n{LATER} usage")  # this process's set, announced
    mirror.announced("2\na\n")  # another process's clear, announced
    mirror.apply(1, "a", f"{LATER} usage")  # the reply to the set arrives last
    assert mirror.current() == {}
    mirror.apply(0, "a", f"{LATER} kept")  # version 0: nothing changed in Redis
    assert mirror.current() == {}


def test_a_snapshot_keeps_changes_newer_than_itself() -> None:
    mirror = CooldownMirror()
    mirror.apply(5, "a", f"{LATER} newer")
    mirror.apply(6, "b", "")
    mirror.load(4, {"a": f"{LATER} older", "b": f"{LATER} older", "c": f"{LATER} c", "d": "1.0 past"})
    assert {a: c.reason for a, c in mirror.current().items()} == {"a": "newer", "c": "c"}
    mirror.announced(f"3\nc\n{LATER} before the snapshot")
    assert mirror.current()["c"].reason == "c"


def test_a_snapshot_older_than_seen_means_redis_lost_its_data() -> None:
    mirror = CooldownMirror()
    mirror.load(40, {"a": f"{LATER} before"})
    mirror.apply(41, "b", f"{LATER} before")
    mirror.load(0, {})
    assert mirror.current() == {}
    mirror.announced(f"1\nc\n{LATER} after")
    assert list(mirror.current()) == ["c"]
