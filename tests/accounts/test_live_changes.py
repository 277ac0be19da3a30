"""Changes to stored accounts reach a running 2-worker gateway within seconds, no restart.

The change is made the way the CLI and the admin API make it (``gptgate.accounts.ops`` on the
store); each worker notices through the store's change counter (``reload_seconds``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from gptgate.accounts import ops
from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.tokens import make_access_token
from tests.accounts.served import chat, gateway_env, open_test_store, start_gateway_process

A, B = "acct-live-a", "acct-live-b"


def served_by(simulator: RunningSimulator) -> list[str]:
    return [
        r["headers"].get("chatgpt-account-id", "")
        for r in simulator.state.requests
        if r["path"].endswith("/responses")
    ]


async def until(check: Callable[[], Awaitable[bool]], seconds: float) -> float:
    """Poll ``check`` (async) until it is true; how long it took. Fails after ``seconds``."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < seconds, f"not within {seconds} s"
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def test_disable_add_and_remove_reach_both_workers(simulator: RunningSimulator, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gptgate.db'}"
    store = open_test_store(url)
    a = ops.add(store, ops.Entry(access_token=make_access_token(A, plan="plus"), name="a"))
    env = {k: str(v) for k, v in gateway_env(simulator, url, workers="2").items()}
    gateway = start_gateway_process(simulator, tmp_path, **env)
    try:
        async with aiohttp.ClientSession() as http:
            base = gateway.base_url
            for n in range(4):
                status, body = await chat(http, base, f"before {n}")
                assert status == 200, body

            ops.set_enabled(store, "a", False, "by the operator")

            async def refused() -> bool:
                # several in a row, so that both workers have answered
                answers = [await chat(http, base, "probe") for _ in range(4)]
                return all(status == 503 for status, _ in answers)

            assert await until(refused, 5.0) < 5.0
            status, body = await chat(http, base, "while disabled")
            assert status == 503
            assert body["error"]["code"] == "no_usable_account"
            assert "1 disabled" in body["error"]["message"]

            ops.add(store, ops.Entry(access_token=make_access_token(B, plan="pro"), name="b"))
            before = len(served_by(simulator))

            async def served() -> bool:
                answers = [await chat(http, base, "probe") for _ in range(4)]
                return all(status == 200 for status, _ in answers)

            await until(served, 5.0)
            assert set(served_by(simulator)[before:]) == {B}

            ops.remove(store, "b")
            await until(refused, 5.0)
            ops.set_enabled(store, a.id, True)
            await until(served, 5.0)
            assert served_by(simulator)[-1] == A
    finally:
        gateway.stop()
        store.close()
