"""Running the simulator on a socket: in-process (tests, demo) or blocking (CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import orjson
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
    # A client that hangs up before the server got to its request gets nothing done: an
    # unanswered token call during the auth delay rotates nothing (the "drop" fault is the
    # opposite case: rotated, then the answer lost).
    runner = web.AppRunner(app, access_log=None, handle_signals=False, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return RunningSimulator(runner, host, int(bound), app[STATE_KEY])


def accounts_document(simulator: RunningSimulator) -> bytes:
    """``{"base_url", "accounts": [credentials…]}`` of the accounts seeded at start."""
    accounts = [credentials.as_json() for credentials in simulator.state.seeded]
    return orjson.dumps({"base_url": simulator.base_url, "accounts": accounts})


def write_accounts(simulator: RunningSimulator, path: Path) -> None:
    """Write the seeded accounts to ``path`` (mode 0600: it holds tokens)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(accounts_document(simulator) + b"\n")


async def _serve_forever(config: SimulatorConfig, host: str, port: int, accounts_file: Path | None) -> None:
    simulator = await start_simulator(config, host, port)
    print(f"gptgate simulator listening on {simulator.base_url}", flush=True)
    if accounts_file is not None:
        write_accounts(simulator, accounts_file)
        print(f"wrote {len(simulator.state.seeded)} accounts to {accounts_file}", flush=True)
    elif simulator.state.seeded:
        print(accounts_document(simulator).decode(), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.close()


def run_simulator(
    config: SimulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 8090,
    accounts_file: Path | None = None,
) -> None:
    """Serve until interrupted (uvloop when installed); seeded accounts are printed as one JSON
    line after the address, or written to ``accounts_file``."""
    main = _serve_forever(config or SimulatorConfig(), host, port, accounts_file)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            import uvloop
        except ImportError:
            asyncio.run(main)
        else:
            uvloop.run(main)
