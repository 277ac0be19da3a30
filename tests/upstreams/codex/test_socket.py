"""The Codex upstream over its WebSocket (``codex_websocket``), against the simulator's socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.state import Fault
from tests.support import Served, replay, start_gateway, start_raw_upstream
from tests.support import test_account as make_account

TERMINAL = {"response.completed", "response.failed", "error"}


async def turn(ws: aiohttp.ClientWebSocketResponse, body: dict[str, Any]) -> list[dict[str, Any]]:
    await ws.send_str(orjson.dumps({"type": "response.create", **body}).decode())
    events: list[dict[str, Any]] = []
    while not events or events[-1]["type"] not in TERMINAL:
        events.append(orjson.loads((await ws.receive(timeout=10)).data))
    return events


@pytest.fixture
async def over_socket(simulator: RunningSimulator) -> AsyncIterator[Served]:
    served = await start_gateway(
        simulator.base_url, [make_account("acct-a"), make_account("acct-b")], codex_websocket=True
    )
    try:
        yield served
    finally:
        await served.close()


async def test_turns_of_a_client_socket_reuse_one_upstream_socket(
    over_socket: Served, simulator: RunningSimulator
) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(over_socket.base_url + "/v1/responses") as ws:
        previous = None
        for n in range(5):
            body: dict[str, Any] = {"model": "gpt-5.5", "input": f"turn {n}"}
            if previous:
                body["previous_response_id"] = previous
            events = await turn(ws, body)
            assert events[-1]["type"] == "response.completed"
            assert [e["sequence_number"] for e in events] == list(range(len(events)))
            previous = events[-1]["response"]["id"]
    sent = simulator.state.requests
    assert [r["method"] for r in sent] == ["GET"] + ["WS-MESSAGE"] * 5
    upgrade = sent[0]["headers"]
    assert upgrade["openai-beta"] == "responses_websockets=2026-02-06"
    assert upgrade["authorization"].startswith("Bearer ey")
    last = sent[-1]["body"]
    assert "previous_response_id" not in last and last["store"] is False
    assert [i["role"] for i in last["input"]] == ["user", "assistant"] * 4 + ["user"]


async def test_a_usage_limit_on_the_upstream_socket_moves_the_turn_to_the_other_account(
    over_socket: Served, simulator: RunningSimulator
) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(over_socket.base_url + "/v1/responses") as ws:
        first = await turn(ws, {"model": "gpt-5.5", "input": "one"})
        served_by = simulator.state.requests[0]["headers"]["chatgpt-account-id"]
        simulator.state.queue_faults([Fault("usage_limit", account_id=served_by)])
        second = await turn(
            ws, {"model": "gpt-5.5", "input": "two", "previous_response_id": first[-1]["response"]["id"]}
        )
        assert second[-1]["type"] == "response.completed"
    upgrades = [r["headers"]["chatgpt-account-id"] for r in simulator.state.requests if r["method"] == "GET"]
    assert upgrades[0] == served_by and upgrades[-1] != served_by
    last = simulator.state.requests[-1]["body"]["input"]
    assert [i["content"][0]["text"] for i in last if i["role"] == "user"] == ["one", "two"]


async def test_an_upstream_without_websocket_is_served_over_http() -> None:
    created = {"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1"}}
    done = {"type": "response.completed", "sequence_number": 1, "response": {"id": "resp_1", "output": []}}
    sse = b"".join(b"data: " + orjson.dumps(e) + b"\n\n" for e in (created, done))
    methods: list[str] = []
    answer = replay(sse)

    async def handler(request: web.Request) -> web.StreamResponse:
        methods.append(request.method)
        if request.method == "GET":
            return web.json_response({"detail": "no websocket"}, status=426)
        return await answer(request)

    upstream = await start_raw_upstream(handler)
    served = await start_gateway(upstream.base_url, codex_websocket=True)
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(served.base_url + "/v1/responses") as ws:
            for n in range(2):
                events = await turn(ws, {"model": "gpt-5.5", "input": f"x{n}"})
                assert [e["type"] for e in events] == ["response.created", "response.completed"]
        assert methods == ["GET", "POST", "POST"]  # refused once, then HTTP only
    finally:
        await served.close()
        await upstream.close()
