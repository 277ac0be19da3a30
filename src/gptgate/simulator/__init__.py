"""A local, faithful fake of the Codex backend (``/backend-api/codex/responses`` and friends).

Used by ``gptgate serve --demo``, by the tests, and as the benchmark's upstream. See ``app.py``
for the routes, ``faults.py`` for the fault kinds and ``[[sim:…]]`` directives, ``logins.py`` for
accounts and their tokens, ``auth_faults.py`` for outages of the token and session endpoints.
"""

from gptgate.simulator.app import create_app
from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.logins import Credentials
from gptgate.simulator.server import RunningSimulator, run_simulator, start_simulator
from gptgate.simulator.state import SimulatorState
from gptgate.simulator.tokens import make_access_token, make_id_token

__all__ = [
    "Credentials",
    "RunningSimulator",
    "SimulatorConfig",
    "SimulatorState",
    "create_app",
    "make_access_token",
    "make_id_token",
    "run_simulator",
    "start_simulator",
]
