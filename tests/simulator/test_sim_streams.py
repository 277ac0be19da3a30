"""Stream shapes against shared/fixtures/codex/*.sse: event order, field sets, sequence numbers."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from gptgate.simulator import RunningSimulator
from tests.simulator.sim_helpers import (
    EXEC_COMMAND,
    TURN_PATH,
    answer_text,
    assert_same_shapes,
    assert_sequence,
    auth_headers,
    completed,
    load_fixture,
    parse_sse,
    turn_body,
    types,
)


async def post_turn(
    http: aiohttp.ClientSession, sim: RunningSimulator, body: dict[str, Any], path: str = TURN_PATH
) -> list[dict[str, Any]]:
    async with http.post(sim.base_url + path, json=body, headers=auth_headers()) as response:
        raw = await response.read()
        assert response.status == 200, raw
        assert response.headers["content-type"] == "text/event-stream"
    events = parse_sse(raw)
    assert_sequence(events)
    return events


async def test_text_stream_matches_fixture(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    fixture = load_fixture("text.constructed.sse")
    events = await post_turn(http, sim, turn_body("Say hi [[sim:text deltas=3]]"))
    assert types(events) == types(fixture)
    assert_same_shapes(events, fixture)
    assert answer_text(events) == "Hello! You said: Say hi."
    response = completed(events)
    assert response["output"][0]["content"][0]["text"] == "Hello! You said: Say hi."
    assert response["prompt_cache_key"] == "01a20492-4e8e-7590-a9f5-6390f7a54c94"
    assert response["store"] is False and response["tools"] == []
    assert events[0]["response"] == events[1]["response"]


async def test_default_text_deltas(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    events = await post_turn(http, sim, turn_body("Hi"))
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert len(deltas) == 8 and all(deltas)
    assert "".join(deltas) == "Hello! You said: Hi."


async def test_reasoning_summary_stream_matches_fixture(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    fixture = load_fixture("reasoning-text.constructed.sse")
    body = turn_body(
        "What is 17 x 23? [[sim:text deltas=3]]",
        reasoning={"effort": "medium", "summary": "auto"},
        include=["reasoning.encrypted_content"],
    )
    events = await post_turn(http, sim, body)
    assert types(events) == types(fixture)
    assert_same_shapes(events, fixture)
    response = completed(events)
    reasoning, message = response["output"]
    assert reasoning["encrypted_content"].startswith("gAAAA")
    summary = "".join(e["delta"] for e in events if e["type"] == "response.reasoning_summary_text.delta")
    assert reasoning["summary"] == [{"type": "summary_text", "text": summary}]
    assert summary.startswith("**")
    assert [events[2]["output_index"], message["type"]] == [0, "message"]
    assert response["usage"]["output_tokens_details"]["reasoning_tokens"] > 0
    assert response["reasoning"] == {"effort": "medium", "summary": "auto"}


async def test_function_call_stream_matches_fixture(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    fixture = load_fixture("function-call.constructed.sse")
    body = turn_body(
        "Run echo hi",
        tools=[EXEC_COMMAND],
        reasoning={"effort": "medium"},
        include=["reasoning.encrypted_content"],
    )
    events = await post_turn(http, sim, body)
    assert types(events) == types(fixture)
    assert_same_shapes(events, fixture)
    ours = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    theirs = [e["delta"] for e in fixture if e["type"] == "response.function_call_arguments.delta"]
    assert ours == theirs
    call = completed(events)["output"][1]
    assert call["name"] == "exec_command" and orjson.loads(call["arguments"]) == {"cmd": "echo hi"}
    assert call["call_id"].startswith("call_") and call["id"].startswith("fc_")


async def test_reasoning_without_include_has_no_encrypted_content(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    events = await post_turn(http, sim, turn_body("hi", reasoning={"effort": "low"}))
    reasoning = completed(events)["output"][0]
    assert reasoning == {"id": reasoning["id"], "type": "reasoning", "summary": []}


async def test_failed_fault_matches_fixture_payload(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    fixture = load_fixture("response-failed.real-payload.sse")
    events = await post_turn(http, sim, turn_body("hi [[sim:failed]]"))
    assert types(events)[-1] == "response.failed"
    assert types(events).count("response.output_text.delta") == 2
    assert "response.completed" not in types(events)
    assert_same_shapes(events, fixture)
    failed = events[-1]["response"]
    assert failed["error"] == fixture[-1]["response"]["error"]
    assert failed["status"] == "failed" and failed["usage"] is None


async def test_ids_are_prefixed_and_unique(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    first = completed(await post_turn(http, sim, turn_body("a", reasoning={"effort": "low"})))
    second = completed(await post_turn(http, sim, turn_body("b", reasoning={"effort": "low"})))
    assert first["id"].startswith("resp_") and first["id"] != second["id"]
    assert [item["id"][:3] for item in first["output"]] == ["rs_", "msg"]
    assert first["output"][1]["id"] != second["output"][1]["id"]


async def test_same_seed_gives_same_ids(http: aiohttp.ClientSession, make_sim: Any) -> None:
    ids = []
    for _ in range(2):
        simulator = await make_sim(seed=7)
        events = await post_turn(http, simulator, turn_body("x", tools=[EXEC_COMMAND]))
        response = completed(events)
        ids.append((response["id"], response["output"][0]["id"], response["output"][0]["call_id"]))
    assert ids[0] == ids[1]


async def test_prompt_cache_simulation(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    body = turn_body("x" * 4000)
    first = completed(await post_turn(http, sim, body))["usage"]
    second = completed(await post_turn(http, sim, body))["usage"]
    assert first["input_tokens_details"]["cached_tokens"] == 0
    assert second["input_tokens_details"]["cached_tokens"] == first["input_tokens"] // 128 * 128 > 0
    assert second["total_tokens"] == second["input_tokens"] + second["output_tokens"]
    other = completed(await post_turn(http, sim, {**body, "prompt_cache_key": "another"}))["usage"]
    assert other["input_tokens_details"]["cached_tokens"] == 0


async def test_paced_mode_sends_the_same_stream(http: aiohttp.ClientSession, make_sim: Any) -> None:
    simulator = await make_sim(mode="paced", interval_ms=1.0, text_deltas=5)
    async with http.post(
        simulator.base_url + TURN_PATH, json=turn_body("hi"), headers=auth_headers()
    ) as response:
        assert response.status == 200 and "content-length" not in response.headers
        chunks = [chunk async for chunk in response.content.iter_any()]
    events = parse_sse(b"".join(chunks))
    assert_sequence(events)
    assert types(events).count("response.output_text.delta") == 5
    assert types(events)[-1] == "response.completed"


async def test_v1_path_serves_same_stream(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    events = await post_turn(http, sim, turn_body("hi"), path="/v1/responses")
    assert types(events)[-1] == "response.completed"
