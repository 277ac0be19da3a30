"""A local, faithful fake of the Codex backend (``/backend-api/codex/responses`` and friends).

Used by ``gptgate serve --demo``, by the tests, and as the benchmark's upstream. See ``app.py``
for the routes, ``faults.py`` for the fault kinds and ``[[sim:…]]`` directives.
"""

from gptgate.simulator.app import create_app
from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.server import RunningSimulator, run_simulator, start_simulator
from gptgate.simulator.state import SimulatorState
from gptgate.simulator.tokens import make_access_token, make_id_token

__all__ = [
    "RunningSimulator",
    "SimulatorConfig",
    "SimulatorState",
    "create_app",
    "make_access_token",
    "make_id_token",
    "run_simulator",
    "start_simulator",
]
