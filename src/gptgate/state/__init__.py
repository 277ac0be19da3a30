"""Shared runtime state of the account pool (see ``base.py``); ``make_state`` picks the backend."""

from __future__ import annotations

from gptgate.settings import Settings
from gptgate.state.base import LOCK_TIMEOUT, Cooldown, Held, LockTimeout, PoolState
from gptgate.state.memory import MemoryState

__all__ = ["LOCK_TIMEOUT", "Cooldown", "Held", "LockTimeout", "MemoryState", "PoolState", "make_state"]


def make_state(settings: Settings) -> PoolState:
    """Redis when ``redis_url`` is set (more than one process or instance), memory otherwise."""
    if settings.redis_url is None:
        return MemoryState()
    from gptgate.state.redis import RedisState  # imported only when used

    return RedisState(settings.redis_url.get_secret_value(), settings.redis_prefix)
