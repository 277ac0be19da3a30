from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gptgate.simulator.server import RunningSimulator
from tests.fuzz.served import start_hardened
from tests.support import Served


@pytest.fixture
async def hardened(simulator: RunningSimulator) -> AsyncIterator[Served]:
    """A gateway behind the production runner, with a client key and a small body limit."""
    served = await start_hardened(simulator.base_url, api_keys=["sk-fuzz-key"], max_body_mb=1)
    try:
        yield served
    finally:
        await served.close()
