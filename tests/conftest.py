from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

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


# -- log secrets scan: every log line the suite writes, checked at the end (tests/observability/logscan.py)
@pytest.fixture(scope="session", autouse=True)
def _log_secrets_scan(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    from tests.observability import logscan

    with logscan.collecting(tmp_path_factory.mktemp("suite-log") / "gptgate.log") as path:
        request.config.pluginmanager.register(logscan.ScanAtEnd(path), "gptgate-log-scan")
        yield


# -- answer and store secrets scans: every gateway answer (tests/observability/answerscan.py) and
# every store the suite wrote (tests/observability/storescan.py), checked at the end
@pytest.fixture(scope="session", autouse=True)
def _answer_and_store_secrets_scan(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    from tests.observability import answerscan, storescan

    with answerscan.tapping(tmp_path_factory.mktemp("suite-answers")) as registry:
        planted = (registry.seen, registry.created)
        report = storescan.StoreReport()
        plugins = request.config.pluginmanager
        plugins.register(answerscan.ScanAtEnd(registry), "gptgate-answer-scan")
        plugins.register(
            storescan.ScanAtEnd(tmp_path_factory.getbasetemp(), report, planted), "gptgate-store-scan"
        )
        with storescan.watching_postgres(report, planted):
            yield
