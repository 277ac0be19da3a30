"""Every Codex CLI 0.169 request captured in shared/fixtures/clients is served (200)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import zstandard

from gptgate.simulator import RunningSimulator, make_access_token
from tests.simulator.sim_helpers import assert_sequence, completed, fixtures_dir, parse_sse, types

CAPTURES = [
    "codex_chatgpt_text_http",
    "codex_chatgpt_tool_http",
    "codex_chatgpt_tool_http_gpt55",
    "codex_apikey_responses_tool",
]
TURN_PATHS = ("/backend-api/codex/responses", "/v1/responses")
SKIPPED_HEADERS = {"host", "content-length", "authorization"}


def captured_turns() -> list[tuple[str, dict[str, Any]]]:
    turns = []
    for name in CAPTURES:
        path = Path(fixtures_dir()) / "clients" / f"{name}.jsonl"
        for line in path.read_text().splitlines():
            request = orjson.loads(line)
            if request["method"] == "POST" and request["path"] in TURN_PATHS:
                turns.append((f"{name}#{request['seq']}", request))
    assert len(turns) == 7, "the captures changed; update this test"
    return turns


def request_headers(request: dict[str, Any]) -> dict[str, str]:
    headers = {name: value for name, value in request["headers"] if name.lower() not in SKIPPED_HEADERS}
    original = dict(request["headers"])
    if request["path"].startswith("/backend-api/"):
        headers["authorization"] = "Bearer " + make_access_token(original["chatgpt-account-id"], plan="pro")
    else:
        headers["authorization"] = original["authorization"]  # an API key on /v1
    return headers


async def send_captured(http: aiohttp.ClientSession, sim: RunningSimulator, request: dict[str, Any]) -> bytes:
    """Replay a captured request, zstd-compressing the body again when the client had."""
    headers = request_headers(request)
    data = orjson.dumps(request["body"])
    if headers.get("content-encoding") == "zstd":
        data = zstandard.ZstdCompressor().compress(data)
    async with http.post(sim.base_url + request["path"], data=data, headers=headers) as response:
        raw = await response.read()
        assert response.status == 200, raw[:300]
        return raw


@pytest.mark.parametrize(
    ("label", "request_"), captured_turns(), ids=[label for label, _ in captured_turns()]
)
async def test_captured_request_is_accepted(
    http: aiohttp.ClientSession, sim: RunningSimulator, label: str, request_: dict[str, Any]
) -> None:
    events = parse_sse(await send_captured(http, sim, request_))
    assert_sequence(events)
    output = completed(events)["output"]
    expected = [t for t in request_["reply"]["output_types"] if t != "message"] or ["message"]
    if label == "codex_chatgpt_text_http#16":
        expected = ["custom_tool_call"]  # code-mode tools are offered, so the simulator calls exec
    assert [item["type"] for item in output if item["type"] != "reasoning"] == expected, types(events)
    assert sim.state.requests[-1]["body"] == request_["body"]


async def test_gpt55_tool_turn_round_trip(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    first, second = [r for label, r in captured_turns() if label.startswith("codex_chatgpt_tool_http_gpt55")]
    call = completed(parse_sse(await send_captured(http, sim, first)))["output"][-1]
    assert call["name"] == "exec_command" and orjson.loads(call["arguments"]) == {"cmd": "echo hi"}
    message = completed(parse_sse(await send_captured(http, sim, second)))["output"][-1]
    assert message["content"][0]["text"].startswith("Tool result received: ")
