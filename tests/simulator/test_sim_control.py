"""The /_sim control API and request recording."""

from __future__ import annotations

from typing import Any

import aiohttp

from gptgate.simulator import RunningSimulator
from gptgate.simulator.state import RECORD_LIMIT
from tests.simulator.sim_helpers import TURN_PATH, auth_headers, turn_body


async def test_health(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    async with http.get(sim.base_url + "/_sim/health") as response:
        assert response.status == 200 and await response.text() == "ok"


async def test_requests_are_recorded(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    headers = {**auth_headers(), "X-Custom": "Yes"}
    async with http.post(sim.base_url + TURN_PATH, json=turn_body(stream=False), headers=headers) as response:
        assert response.status == 400
    async with http.get(sim.base_url + "/backend-api/codex/models?client_version=1", headers=headers):
        pass
    async with http.get(sim.base_url + "/_sim/requests") as response:
        recorded = (await response.json())["requests"]
    assert [(r["method"], r["path"]) for r in recorded] == [
        ("POST", TURN_PATH),
        ("GET", "/backend-api/codex/models"),
    ]
    assert recorded[0]["headers"]["x-custom"] == "Yes" and recorded[0]["body"] == turn_body(stream=False)
    assert recorded[1]["body"] is None and recorded[1]["query"] == "client_version=1"
    async with http.delete(sim.base_url + "/_sim/requests") as response:
        assert (await response.json()) == {"cleared": 2}
    assert len(sim.state.requests) == 0


async def test_recording_is_bounded(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    for index in range(RECORD_LIMIT + 5):
        sim.state.record("GET", f"/{index}", "", {}, None)
    assert len(sim.state.requests) == RECORD_LIMIT and sim.state.requests[0]["path"] == "/5"


async def test_recording_can_be_disabled(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(record_requests=False)
    async with http.post(sim.base_url + TURN_PATH, json=turn_body(), headers=auth_headers()) as response:
        assert response.status == 200
    assert len(sim.state.requests) == 0


async def test_reset_everything(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(quota_requests_per_window=1)
    async with http.post(sim.base_url + TURN_PATH, json=turn_body(), headers=auth_headers()):
        pass
    sim.state.add_refresh_token("rt", "acc")
    async with http.post(sim.base_url + "/_sim/reset") as response:
        assert response.status == 200
    assert not sim.state.accounts and not sim.state.refresh_tokens and not sim.state.requests
    async with http.post(sim.base_url + TURN_PATH, json=turn_body(), headers=auth_headers()) as response:
        assert response.status == 200


async def test_bad_fault_bodies(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    for body in (b"[]", b"{", b'{"faults": [{"no_kind": 1}]}', b'{"faults": [], "account_id": 3}'):
        async with http.post(sim.base_url + "/_sim/faults", data=body) as response:
            assert response.status == 400, body
