from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.server import RunningSimulator, start_simulator
from tests.support import Served, start_gateway


@pytest.fixture
async def simulator() -> AsyncIterator[RunningSimulator]:
    sim = await start_simulator(SimulatorConfig())
    try:
        yield sim
    finally:
        await sim.close()


@pytest.fixture
async def gateway(simulator: RunningSimulator) -> AsyncIterator[Served]:
    served = await start_gateway(simulator.base_url)
    try:
        yield served
    finally:
        await served.close()
