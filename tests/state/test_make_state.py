from __future__ import annotations

from pydantic import SecretStr

from gptgate.settings import Settings
from gptgate.state import MemoryState, make_state
from gptgate.state.redis import RedisState


async def test_memory_unless_a_redis_url_is_set(redis_url: str) -> None:
    assert isinstance(make_state(Settings()), MemoryState)
    state = make_state(Settings(redis_url=SecretStr(redis_url), redis_prefix="deploy-b:"))
    try:
        assert isinstance(state, RedisState)
        assert state.prefix == "deploy-b:"
        await state.sticky_set("k", "a", 5)
        assert await state.sticky_get("k") == "a"
    finally:
        await state.sticky_drop("k")
        await state.close()
