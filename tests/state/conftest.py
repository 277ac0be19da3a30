from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gptgate.state import MemoryState, PoolState
from gptgate.state.redis import RedisState
from tests.servers.redis import RedisServer, redis_server, redis_url, unique_prefix

__all__ = ["redis_server", "redis_url"]


@pytest.fixture
async def redis_state(redis_url: str) -> AsyncIterator[RedisState]:
    """A ``RedisState`` on the session's server under a prefix of its own."""
    state = RedisState(redis_url, unique_prefix())
    try:
        yield state
    finally:
        await state.close()


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[PoolState]:
    """Each implementation in turn: the same behaviour is asked of both."""
    if request.param == "memory":
        made: PoolState = MemoryState()
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        made = RedisState(server.url, unique_prefix())
    try:
        yield made
    finally:
        await made.close()
