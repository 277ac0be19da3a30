"""Running the simulator on a socket: in-process (tests, demo) or blocking (CLI)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from aiohttp import web

from gptgate.simulator.app import create_app
from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.state import STATE_KEY, SimulatorState


@dataclass
class RunningSimulator:
    """A simulator listening on ``host:port``; ``close()`` stops it."""

    runner: web.AppRunner
    host: str
    port: int
    state: SimulatorState

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_simulator(
    config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    """Start a simulator on the running loop; ``port=0`` picks a free port."""
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return RunningSimulator(runner, host, int(bound), app[STATE_KEY])


async def _serve_forever(config: SimulatorConfig, host: str, port: int) -> None:
    simulator = await start_simulator(config, host, port)
    print(f"gptgate simulator listening on {simulator.base_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.close()


def run_simulator(config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 8090) -> None:
    """Serve until interrupted (uvloop when installed)."""
    main = _serve_forever(config or SimulatorConfig(), host, port)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            import uvloop
        except ImportError:
            asyncio.run(main)
        else:
            uvloop.run(main)
