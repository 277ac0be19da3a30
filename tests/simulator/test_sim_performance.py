"""The simulator is the benchmark's upstream: a burst reply is built once and sent in one write."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

import gptgate.simulator.app as sim_app
from gptgate.simulator import RunningSimulator
from gptgate.simulator.replies import ReplyContext, TurnIds, build_reply
from gptgate.simulator.turn import read_turn
from tests.simulator.sim_helpers import TURN_PATH, auth_headers, turn_body


def test_burst_reply_is_built_as_whole_records() -> None:
    """A 200-delta answer is 208 complete records (its CPU cost is measured in bench/, not here)."""
    body = turn_body("benchmark [[sim:text deltas=200]]")
    turn = read_turn(body, 1000)
    records = build_reply(ReplyContext(turn, TurnIds("0" * 32, 0), 0, text_deltas=200))
    payload = b"".join(records)
    assert len(records) == 208 and payload.count(b"\n\n") == 208
    assert all(r.startswith(b"event: ") and r.endswith(b"\n\n") for r in records)


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
