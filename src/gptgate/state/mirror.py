"""The Redis state's local copy of the cooldowns, so reading them costs no round trip.

Every change in Redis carries a version (one counter per deployment). A process hears of a
change twice, from its own script's reply and from the pub/sub announcement, and of a snapshot
when its subscription is (re)made; applying only what is newer than what it has for that
account keeps the copy in Redis's order whichever arrives first.
"""

from __future__ import annotations

import time

from gptgate.state.base import Cooldown


class CooldownMirror:
    def __init__(self) -> None:
        self._cooldowns: dict[str, Cooldown] = {}
        self._versions: dict[str, int] = {}
        self._floor = 0  # the version of the last snapshot: everything up to it is in

    def current(self) -> dict[str, Cooldown]:
        if not self._cooldowns:
            return {}
        now = time.time()
        return {a: c for a, c in self._cooldowns.items() if c.until > now}

    def apply(self, version: int, account: str, value: str) -> None:
        """One change: ``value`` is ``"<until> <reason>"``, or empty when cleared."""
        if version <= self._floor or version <= self._versions.get(account, 0):
            return
        self._versions[account] = version
        cooldown = parse(value)
        if cooldown is None:
            self._cooldowns.pop(account, None)
        else:
            self._cooldowns[account] = cooldown

    def announced(self, message: str) -> None:
        """A pub/sub announcement: ``"version\\naccount\\nvalue"``."""
        version, account, value = message.split("\n", 2)
        self.apply(int(version), account, value)

    def load(self, version: int, stored: dict[str, str]) -> None:
        """A snapshot of the whole hash, taken at ``version``. A version below the last one seen
        means Redis lost its data (restarted without persistence): the snapshot is all there is."""
        if version < self._floor:
            self._versions = {}
        now = time.time()
        cooldowns = {a: c for a, c in ((a, parse(v)) for a, v in stored.items()) if c and c.until > now}
        # Changes newer than the snapshot that were already applied stay.
        for account, seen in self._versions.items():
            if seen > version:
                newer = self._cooldowns.get(account)
                if newer is None:
                    cooldowns.pop(account, None)
                else:
                    cooldowns[account] = newer
        self._cooldowns = cooldowns
        self._versions = {a: v for a, v in self._versions.items() if v > version}
        self._floor = version


def parse(value: str) -> Cooldown | None:
    until, _, reason = value.partition(" ")
    return Cooldown(float(until), reason) if until else None
