"""The simulator is the benchmark's upstream: a burst reply is built once and sent in one write."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

import gptgate.simulator.app as sim_app
from gptgate.simulator import RunningSimulator
from gptgate.simulator.replies import ReplyContext, TurnIds, build_reply
from gptgate.simulator.turn import read_turn
from tests.simulator.sim_helpers import TURN_PATH, auth_headers, turn_body


def test_burst_generation_cpu_budget() -> None:
    body = turn_body("benchmark [[sim:text deltas=200]]")
    started = time.process_time()
    for number in range(200):
        turn = read_turn(body, 1000)
        records = build_reply(ReplyContext(turn, TurnIds("0" * 32, number), 0, text_deltas=200))
        payload = b"".join(records)
    per_stream = (time.process_time() - started) / 200
    assert len(records) == 208 and payload.count(b"\n\n") == 208
    # Typically ~0.3 ms; the bound is 30x that so the test never flakes on a slow machine.
    assert per_stream < 0.010, f"{per_stream * 1000:.2f} ms of CPU per 200-delta stream"


async def test_generator_runs_once_per_request_and_body_is_one_write(
    http: aiohttp.ClientSession, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def counting(ctx: ReplyContext) -> list[bytes]:
        calls.append(1)
        return build_reply(ctx)

    monkeypatch.setattr(sim_app, "build_reply", counting)
    for _ in range(3):
        async with http.post(sim.base_url + TURN_PATH, json=turn_body(), headers=auth_headers()) as response:
            body: Any = await response.read()
            assert response.status == 200
            assert int(response.headers["content-length"]) == len(body)  # burst: one sized body
    assert len(calls) == 3
