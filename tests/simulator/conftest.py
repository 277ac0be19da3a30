"""Fixtures of the simulator tests: running simulators and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from gptgate.simulator import RunningSimulator, SimulatorConfig, start_simulator
from tests.simulator.sim_helpers import fixtures_dir

SimFactory = Callable[..., Awaitable[RunningSimulator]]


@pytest.fixture(autouse=True, scope="session")
def _shared_fixtures_present() -> None:
    fixtures_dir()  # every simulator test errors loudly when the shared fixtures are missing


@pytest.fixture
async def make_sim() -> AsyncIterator[SimFactory]:
    started: list[RunningSimulator] = []

    async def factory(**settings: object) -> RunningSimulator:
        simulator = await start_simulator(SimulatorConfig(**settings))  # type: ignore[arg-type]
        started.append(simulator)
        return simulator

    yield factory
    for simulator in started:
        await simulator.close()


@pytest.fixture
async def sim(make_sim: SimFactory) -> RunningSimulator:
    return await make_sim()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
