"""Reply generation: tool choice, custom tools, parallel calls, structured output, tool results."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from gptgate.simulator import RunningSimulator
from gptgate.simulator.schema import minimal_instance
from tests.simulator.sim_helpers import (
    EXEC_COMMAND,
    TURN_PATH,
    answer_text,
    assert_sequence,
    auth_headers,
    completed,
    function_tool,
    parse_sse,
    turn_body,
    types,
)

WEATHER = function_tool(
    "get_weather",
    {
        "city": {"type": "string"},
        "days": {"type": "integer", "minimum": 1},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "detailed": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "where": {"type": "object", "properties": {"lat": {"type": "number"}}, "required": ["lat"]},
        "note": {"type": ["string", "null"]},
    },
    ["city", "days", "unit", "detailed", "tags", "where", "note"],
)
APPLY_PATCH = {"type": "custom", "name": "apply_patch", "description": "patch", "format": {"type": "text"}}


async def reply(
    http: aiohttp.ClientSession, sim: RunningSimulator, body: dict[str, Any]
) -> list[dict[str, Any]]:
    async with http.post(sim.base_url + TURN_PATH, json=body, headers=auth_headers()) as response:
        raw = await response.read()
        assert response.status == 200, raw
    events = parse_sse(raw)
    assert_sequence(events)
    return events


async def test_arguments_follow_the_schema(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    output = completed(await reply(http, sim, turn_body(tools=[WEATHER])))["output"]
    assert orjson.loads(output[0]["arguments"]) == {
        "city": "sim",
        "days": 1,
        "unit": "celsius",
        "detailed": False,
        "tags": [],
        "where": {"lat": 0},
        "note": "sim",
    }


async def test_exec_command_preferred(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    output = completed(await reply(http, sim, turn_body(tools=[WEATHER, APPLY_PATCH, EXEC_COMMAND])))[
        "output"
    ]
    assert [item["name"] for item in output] == ["exec_command"]


async def test_tool_choice(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    tools = [EXEC_COMMAND, WEATHER]
    forced = turn_body(tools=tools, tool_choice={"type": "function", "name": "get_weather"})
    assert completed(await reply(http, sim, forced))["output"][0]["name"] == "get_weather"
    events = await reply(http, sim, turn_body(tools=tools, tool_choice="none"))
    assert completed(events)["output"][0]["type"] == "message"
    assert completed(events)["tool_choice"] == "none"


async def test_custom_tool_call(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    events = await reply(http, sim, turn_body(tools=[APPLY_PATCH, {"type": "web_search"}]))
    assert types(events)[2:] == [
        "response.output_item.added",
        "response.custom_tool_call_input.delta",
        "response.custom_tool_call_input.done",
        "response.output_item.done",
        "response.completed",
    ]
    item = completed(events)["output"][0]
    assert (
        item["type"] == "custom_tool_call" and item["name"] == "apply_patch" and item["id"].startswith("ctc_")
    )
    assert item["input"].startswith("*** Begin Patch") and item["call_id"].startswith("call_")
    assert set(item) == {"id", "type", "status", "call_id", "name", "input"}


async def test_additional_tools_namespace(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    namespace = {"type": "namespace", "name": "clock", "description": "", "tools": [WEATHER]}
    body = turn_body()
    body["input"].insert(
        0, {"type": "additional_tools", "id": "at_1", "role": "developer", "tools": [namespace]}
    )
    assert completed(await reply(http, sim, body))["output"][0]["name"] == "get_weather"


async def test_only_hosted_tools_means_text(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    events = await reply(http, sim, turn_body(tools=[{"type": "web_search"}]))
    assert completed(events)["output"][0]["type"] == "message"


async def test_parallel_calls(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    body = turn_body("go [[sim:parallel]]", tools=[EXEC_COMMAND, WEATHER], reasoning={"effort": "low"})
    output = completed(await reply(http, sim, body))["output"]
    assert [item["type"] for item in output] == ["reasoning", "function_call", "function_call"]
    assert [item["name"] for item in output[1:]] == ["exec_command", "get_weather"]
    assert output[1]["call_id"] != output[2]["call_id"]
    serial = completed(await reply(http, sim, {**body, "parallel_tool_calls": False}))["output"]
    assert len(serial) == 2


async def test_tool_result_gives_text(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    body = turn_body("Run echo hi", tools=[EXEC_COMMAND])
    call = {"type": "function_call", "name": "exec_command", "arguments": "{}", "call_id": "call_1"}
    body["input"] += [
        call,
        {"type": "function_call_output", "call_id": "call_1", "output": "hi\n" + "x" * 80},
    ]
    events = await reply(http, sim, body)
    assert answer_text(events) == "Tool result received: hi\n" + "x" * 37


async def test_custom_tool_result_parts(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    body = turn_body(tools=[APPLY_PATCH])
    output = [{"type": "input_text", "text": "Done"}, {"type": "input_text", "text": "!"}]
    body["input"].append({"type": "custom_tool_call_output", "call_id": "c", "output": output})
    assert answer_text(await reply(http, sim, body)) == "Tool result received: Done!"


async def test_json_schema_output(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    schema = {
        "type": "object",
        "properties": {
            "answer": {"type": "string"},
            "score": {"type": "integer"},
            "mood": {"enum": ["ok", "bad"]},
        },
        "required": ["answer", "score", "mood"],
        "additionalProperties": False,
    }
    fmt = {"type": "json_schema", "name": "out", "strict": True, "schema": schema}
    events = await reply(http, sim, turn_body(text={"format": fmt, "verbosity": "low"}))
    assert orjson.loads(answer_text(events)) == {"answer": "sim", "score": 0, "mood": "ok"}
    assert completed(events)["text"]["format"] == fmt


async def test_json_object_output(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    events = await reply(http, sim, turn_body("Hi", text={"format": {"type": "json_object"}}))
    assert orjson.loads(answer_text(events)) == {"answer": "Hello! You said: Hi."}


async def test_many_deltas_are_padded(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    events = await reply(http, sim, turn_body("x [[sim:text deltas=200]]"))
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert len(deltas) == 200 and all(deltas)
    assert "".join(deltas).startswith("Hello! You said: x.")


async def test_string_content_and_empty_user_text(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    body = turn_body()
    body["input"] = [{"role": "user", "content": "[[sim:text deltas=3]]"}]
    assert answer_text(await reply(http, sim, body)) == "Hello! How can I help you today?"


def test_minimal_instance_refs_and_combinators() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/A"}, "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
        "required": ["a", "b"],
        "$defs": {"A": {"type": "array", "minItems": 2, "items": {"const": 3}}},
    }
    assert minimal_instance(schema) == {"a": [3, 3], "b": 0}
