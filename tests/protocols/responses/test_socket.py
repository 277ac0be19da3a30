"""The Responses WebSocket over real sockets: gateway + simulator (or a raw upstream)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from gptgate.dispatch.context import CallContext
from gptgate.errors import UsageLimitReached
from gptgate.settings import DEFAULT_MODELS
from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.state import Fault
from tests.support import Served, client_requests, start_gateway, start_raw_upstream
from tests.support import test_account as make_account

TERMINAL = {"response.completed", "response.failed", "response.incomplete", "error"}
HOP = {"host", "connection", "upgrade", "authorization", "sec-websocket-key", "sec-websocket-version"}
HOP |= {"sec-websocket-extensions"}


class Recorder:
    """An observer that keeps every closed call."""

    def __init__(self) -> None:
        self.closed: list[CallContext] = []

    async def admit(self, call: CallContext, request: Any) -> None:
        return None

    async def call_closed(self, call: CallContext) -> None:
        self.closed.append(call)


async def read_turn(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    """The frames of one turn, up to its terminal event (each frame one event)."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while not events or events[-1]["type"] not in TERMINAL:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            events.append(orjson.loads(msg.data))
    return events


def create(body: dict[str, Any]) -> str:
    return orjson.dumps({"type": "response.create", **body}).decode()


def turns_of(simulator: RunningSimulator) -> list[dict[str, Any]]:
    return [r for r in simulator.state.requests if r["path"].endswith("/responses")]


@pytest.fixture
async def pair(simulator: RunningSimulator) -> AsyncIterator[Served]:
    served = await start_gateway(simulator.base_url, [make_account("acct-a"), make_account("acct-b")])
    try:
        yield served
    finally:
        await served.close()


@pytest.fixture
async def codex_gateway(simulator: RunningSimulator) -> AsyncIterator[Served]:
    """A gateway that lists the model Codex CLI 0.169 asks for by default."""
    served = await start_gateway(simulator.base_url, models=[*DEFAULT_MODELS, "gpt-6.1-sol"])
    try:
        yield served
    finally:
        await served.close()


async def test_codex_cli_websocket_capture_replays_with_the_replies_codex_accepted(
    codex_gateway: Served, simulator: RunningSimulator
) -> None:
    gateway = codex_gateway
    captured = client_requests("codex_chatgpt_tool_ws")
    upgrade = next(
        r for r in captured if r["method"] == "GET" and r["path"] == "/backend-api/codex/responses"
    )
    frames = [r for r in captured if r["method"] == "WS-MESSAGE"]
    headers = {k: v for k, v in upgrade["headers"] if k.lower() not in HOP}
    assert headers["openai-beta"] == "responses_websockets=2026-02-06"
    last_id: str | None = None
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(gateway.base_url + "/backend-api/codex/responses", headers=headers) as ws,
    ):
        for frame in frames:
            body = dict(frame["body"])
            if "previous_response_id" in body:
                body["previous_response_id"] = last_id  # the id this server gave, as Codex does
            await ws.send_str(orjson.dumps(body).decode())
            events = await read_turn(ws)
            # the simulator thinks first (a reasoning item the capture's fake server did not send)
            # and splits its text in more deltas: compared as runs of one event type
            kinds = [e["type"] for e in events if not _reasoning(e)]
            assert _runs(kinds) == _runs(frame["reply"]["events"])
            done = [
                e["item"]["type"]
                for e in events
                if e["type"] == "response.output_item.done" and not _reasoning(e)
            ]
            assert done == frame["reply"]["output_types"]
            assert [e["sequence_number"] for e in events] == list(range(len(events)))
            last_id = events[-1]["response"]["id"]
    upstream = turns_of(simulator)
    assert len(upstream) == 2  # the warm-up spent no upstream turn
    first, second = (u["body"] for u in upstream)
    for sent in (first, second):
        assert "previous_response_id" not in sent and "generate" not in sent and "type" not in sent
        assert sent["store"] is False and sent["stream"] is True
    assert first["input"] == frames[1]["body"]["input"]
    # the tool turn went out self-contained: the whole thread, then the tool output
    history = second["input"]
    assert history[: len(first["input"])] == first["input"]
    answered = [item["type"] for item in history[len(first["input"]) : -1]]
    assert answered == ["reasoning", "custom_tool_call"]
    assert history[-1:] == frames[2]["body"]["input"]
    assert upstream[1]["headers"]["session-id"] == dict(upgrade["headers"])["session-id"]


async def test_a_websocket_session_of_20_turns_keeps_one_account(
    pair: Served, simulator: RunningSimulator
) -> None:
    recorder = Recorder()
    assert pair.gateway is not None
    pair.gateway.observers.add(recorder)
    async with aiohttp.ClientSession() as http, http.ws_connect(pair.base_url + "/v1/responses") as ws:
        previous = None
        for n in range(20):
            body: dict[str, Any] = {"model": "gpt-5.5", "input": f"turn {n}"}
            if previous:
                body["previous_response_id"] = previous
            await ws.send_str(create(body))
            events = await read_turn(ws)
            assert events[-1]["type"] == "response.completed"
            previous = events[-1]["response"]["id"]
    accounts = {r["headers"]["chatgpt-account-id"] for r in turns_of(simulator)}
    assert len(turns_of(simulator)) == 20 and len(accounts) == 1
    # every turn was its own call, closed through the observers (usage, limits, metrics)
    assert len(recorder.closed) == 20
    assert {c.status for c in recorder.closed} == {200}
    assert len({c.request_id for c in recorder.closed}) == 20
    assert {c.door for c in recorder.closed} == {"responses"}
    assert all(c.usage() is not None for c in recorder.closed)
    # the last upstream request held the whole thread: 20 user turns and 19 answers
    last = turns_of(simulator)[-1]["body"]["input"]
    assert [i["role"] for i in last] == ["user", "assistant"] * 19 + ["user"]


async def test_cooldown_moves_the_next_turn_and_previous_response_id_still_holds(
    pair: Served, simulator: RunningSimulator
) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(pair.base_url + "/v1/responses") as ws:
        await ws.send_str(create({"model": "gpt-5.5", "input": "first"}))
        first = await read_turn(ws)
        served_by = turns_of(simulator)[-1]["headers"]["chatgpt-account-id"]
        other = "acct-b" if served_by == "acct-a" else "acct-a"
        # the account runs out: its next turn is refused with the usage-limit 429
        simulator.state.queue_faults([Fault("usage_limit", account_id=served_by)])
        body = {"model": "gpt-5.5", "input": "second", "previous_response_id": first[-1]["response"]["id"]}
        await ws.send_str(create(body))
        second = await read_turn(ws)
        assert second[-1]["type"] == "response.completed"
        await ws.send_str(
            create(
                {"model": "gpt-5.5", "input": "third", "previous_response_id": second[-1]["response"]["id"]}
            )
        )
        third = await read_turn(ws)
        assert third[-1]["type"] == "response.completed"
    sent = turns_of(simulator)
    assert [r["headers"]["chatgpt-account-id"] for r in sent] == [served_by, served_by, other, other]
    texts = [_text(i) for i in sent[-1]["body"]["input"]]
    assert texts[0] == "first" and texts[2] == "second" and texts[4] == "third"


async def test_an_account_cooling_between_turns_is_left_at_the_turn_boundary(
    pair: Served, simulator: RunningSimulator
) -> None:
    assert pair.gateway is not None
    pool = pair.gateway.dispatcher.pool
    async with aiohttp.ClientSession() as http, http.ws_connect(pair.base_url + "/v1/responses") as ws:
        await ws.send_str(create({"model": "gpt-5.5", "input": "first"}))
        first = await read_turn(ws)
        served_by = turns_of(simulator)[-1]["headers"]["chatgpt-account-id"]
        account = pool.get("cfg-" + served_by) or next(a for a in pool.accounts if a.account_id == served_by)
        await pool.penalize(account, UsageLimitReached("used up", resets_at=time.time() + 600))
        body = {"model": "gpt-5.5", "input": "second", "previous_response_id": first[-1]["response"]["id"]}
        await ws.send_str(create(body))
        assert (await read_turn(ws))[-1]["type"] == "response.completed"
    sent = turns_of(simulator)
    assert sent[-1]["headers"]["chatgpt-account-id"] != served_by
    assert [_text(i) for i in sent[-1]["body"]["input"]][::2] == ["first", "second"]


async def test_errors_are_in_band_and_the_socket_stays_open(gateway: Served) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(gateway.base_url + "/v1/responses") as ws:
        await ws.send_str(create({"model": "gpt-5.5", "input": "x", "previous_response_id": "resp_nope"}))
        assert orjson.loads((await ws.receive()).data) == {
            "type": "error",
            "status": 400,
            "error": {
                "type": "invalid_request_error",
                "code": "previous_response_not_found",
                "message": "Previous response with id 'resp_nope' not found.",
                "param": "previous_response_id",
            },
        }
        await ws.send_str('{"type": "session.update"}')
        error = orjson.loads((await ws.receive()).data)
        assert (error["status"], error["error"]["param"]) == (400, "type")
        await ws.send_str("not json")
        assert orjson.loads((await ws.receive()).data)["error"]["code"] == "invalid_json"
        await ws.send_str('{"type": "response.processed", "response_id": "resp_1"}')  # no answer
        await ws.send_str(create({"model": "gpt-5.5", "input": "still here"}))
        assert (await read_turn(ws))[-1]["type"] == "response.completed"


async def test_a_plain_get_is_told_to_upgrade(gateway: Served) -> None:
    async with aiohttp.ClientSession() as http, http.get(gateway.base_url + "/v1/responses") as resp:
        assert resp.status == 426
        assert (await resp.json())["error"]["code"] == "upgrade_required"


async def test_a_client_that_closes_mid_turn_closes_the_upstream_request() -> None:
    started, closed = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        await request.read()
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        created = {"type": "response.created", "sequence_number": 0, "response": {"id": "resp_slow"}}
        await resp.write(b"data: " + orjson.dumps(created) + b"\n\n")
        try:
            for n in range(1, 400):
                delta = {"type": "response.output_text.delta", "sequence_number": n, "delta": "x"}
                await resp.write(b"data: " + orjson.dumps(delta) + b"\n\n")
                started.set()
                await asyncio.sleep(0.02)
        except (asyncio.CancelledError, ConnectionError):
            closed.set()
            raise
        return resp

    upstream = await start_raw_upstream(slow)
    served = await start_gateway(upstream.base_url)
    recorder = Recorder()
    assert served.gateway is not None
    served.gateway.observers.add(recorder)
    try:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(served.base_url + "/v1/responses")
            await ws.send_str(create({"model": "gpt-5.5", "input": "long"}))
            for _ in range(3):
                assert (await ws.receive()).type == aiohttp.WSMsgType.TEXT
            await asyncio.wait_for(started.wait(), 5)
            await ws.close()
            await asyncio.wait_for(closed.wait(), 5)
        for _ in range(100):
            if recorder.closed:
                break
            await asyncio.sleep(0.02)
        assert [c.status for c in recorder.closed] == [499]
    finally:
        await served.close()
        await upstream.close()


def _text(item: dict[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, list) and content:
        return str(content[0].get("text"))
    return ""


def _reasoning(event: dict[str, Any]) -> bool:
    item = event.get("item")
    return "reasoning" in event["type"] or (isinstance(item, dict) and item.get("type") == "reasoning")


def _runs(kinds: list[str]) -> list[str]:
    return [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
