"""A second OS process for the Redis tests: ``python -m tests.state.worker COMMAND URL PREFIX ...``.

Commands (each prints progress lines the test reads, flushed):

- ``lock-count NAME FILE N``: N times take the lock and do a slow read-modify-write of the
  integer in FILE; prints ``span <enter> <exit>`` (``time.monotonic()``, system-wide) per turn.
- ``hold-lock NAME TTL``: takes the lock, prints ``held``, then sleeps until killed.
- ``lease ACCOUNT N LEASE_TTL``: leases ACCOUNT N times, prints ``leased``, sleeps until killed.
- ``cooldown ACCOUNT UNTIL REASON``: sets a cooldown, prints ``set``, exits.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from gptgate.state.redis import RedisState

SLEEP_FOREVER_S = 120.0


def say(line: str) -> None:
    print(line, flush=True)


def read_counter(path: str) -> int:
    return int(Path(path).read_text() or "0")


def write_counter(path: str, value: int) -> None:
    Path(path).write_text(str(value))


async def lock_count(state: RedisState, name: str, path: str, n: str) -> None:
    for _ in range(int(n)):
        async with state.lock(name, ttl=10, timeout=20):
            enter = time.monotonic()
            value = read_counter(path)
            await asyncio.sleep(0.002)  # a slow read-modify-write: only exclusion keeps it whole
            write_counter(path, value + 1)
            say(f"span {enter} {time.monotonic()}")


async def hold_lock(state: RedisState, name: str, ttl: str) -> None:
    async with state.lock(name, ttl=float(ttl), timeout=5):
        say("held")
        await asyncio.sleep(SLEEP_FOREVER_S)


async def lease(state: RedisState, account: str, n: str) -> None:
    for _ in range(int(n)):
        await state.lease(account)
    say("leased")
    await asyncio.sleep(SLEEP_FOREVER_S)


async def cooldown(state: RedisState, account: str, until: str, reason: str) -> None:
    await state.set_cooldown(account, float(until), reason)
    say("set")


async def main(command: str, url: str, prefix: str, *args: str) -> None:
    lease_ttl = float(args[2]) if command == "lease" else 30.0
    state = RedisState(url, prefix, lease_ttl=lease_ttl)
    try:
        if command == "lock-count":
            await lock_count(state, *args)
        elif command == "hold-lock":
            await hold_lock(state, *args)
        elif command == "lease":
            await lease(state, args[0], args[1])
        elif command == "cooldown":
            await cooldown(state, *args)
        else:
            raise SystemExit(f"unknown command {command}")
    finally:
        await state.close()
    say("done")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
