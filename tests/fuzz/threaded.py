"""A simulator and a production-runner gateway on their own event loop in a thread, so that
hypothesis (synchronous) can drive them over real sockets with ``http.client``."""

from __future__ import annotations

import asyncio
import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.server import start_simulator
from tests.fuzz.served import start_hardened

KEY = "sk-fuzz-key"


@contextmanager
def threaded_gateway() -> Iterator[int]:
    """The gateway's port while the context lasts."""
    loop = asyncio.new_event_loop()
    ready: list[int] = []
    stop = asyncio.Event()

    async def main() -> None:
        sim = await start_simulator(SimulatorConfig())
        served = await start_hardened(sim.base_url, api_keys=[KEY], max_body_mb=1)
        ready.append(int(served.base_url.rsplit(":", 1)[1]))
        await stop.wait()
        await served.close()
        await sim.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    for _ in range(200):
        if ready:
            break
        threading.Event().wait(0.05)
    try:
        yield ready[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


def request(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()
