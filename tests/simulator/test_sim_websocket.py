"""The simulator's Responses WebSocket: warm-up, previous_response_id, refusals as error events."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from gptgate.simulator import RunningSimulator, make_access_token

PATH = "/backend-api/codex/responses"


def headers() -> dict[str, str]:
    return {
        "authorization": "Bearer " + make_access_token("acct-ws", plan="pro"),
        "chatgpt-account-id": "acct-ws",
    }


async def frames(ws: aiohttp.ClientWebSocketResponse, message: dict[str, Any]) -> list[dict[str, Any]]:
    await ws.send_str(orjson.dumps(message).decode())
    out: list[dict[str, Any]] = []
    while not out or out[-1]["type"] not in ("response.completed", "response.failed", "error"):
        out.append(orjson.loads((await ws.receive(timeout=10)).data))
    return out


BODY = {"type": "response.create", "model": "gpt-5.5", "stream": True, "store": False}


async def test_warm_up_then_turns_continue_within_the_socket(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    async with http.ws_connect(sim.base_url + PATH, headers=headers()) as ws:
        warm = await frames(ws, {**BODY, "input": [], "generate": False})
        assert [e["type"] for e in warm] == ["response.created", "response.in_progress", "response.completed"]
        assert warm[-1]["response"]["output"] == []
        user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        first = await frames(
            ws, {**BODY, "input": [user], "previous_response_id": warm[-1]["response"]["id"]}
        )
        assert first[-1]["type"] == "response.completed"
        again = {**user, "content": [{"type": "input_text", "text": "again"}]}
        await frames(ws, {**BODY, "input": [again], "previous_response_id": first[-1]["response"]["id"]})
        stale = await frames(ws, {**BODY, "input": [again], "previous_response_id": "resp_old"})
        assert stale == [
            {
                "type": "error",
                "status": 400,
                "error": {
                    "type": "invalid_request_error",
                    "code": "previous_response_not_found",
                    "message": "Previous response with id 'resp_old' not found.",
                },
            }
        ]
        refused = await frames(ws, {**BODY, "input": [again], "temperature": 1})
        assert refused == [
            {
                "type": "error",
                "status": 400,
                "error": {"message": "Unsupported parameter: temperature", "code": None},
            }
        ]
    turns = [r for r in sim.state.requests if r["method"] == "WS-MESSAGE"]
    assert len(turns) == 5 and turns[0]["body"]["generate"] is False


async def test_the_upgrade_is_authenticated(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    try:
        await http.ws_connect(sim.base_url + PATH)
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 401
    else:
        raise AssertionError("upgraded without a token")
