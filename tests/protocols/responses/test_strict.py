"""The Responses door checks every documented field of ``input`` items, ``tools``,
``tool_choice``, ``include`` and ``text.format`` as the API does (issue 13): a wrong one is a
400 in OpenAI's envelope naming it (``param``), never a 200 or a 500. Unknown fields and item
or tool types newer than the SDK pass, and every request a real client sent still decodes."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest

from gptgate.protocols.responses.decode import decode
from tests.protocols.openai_wire import answer, envelope, invalid, missing, wrong
from tests.support import Served, client_requests

MODEL = "gpt-5.5"
USER = {"role": "user", "content": "hi"}
CALL = {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}


def items(*values: Any) -> dict[str, Any]:
    return {"model": MODEL, "input": list(values)}


def with_(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "input": "hi", **extra}


def part(**fields: Any) -> dict[str, Any]:
    return items({"role": "user", "content": [fields]})


INPUT_PARTS = "Supported values are: 'input_text', 'input_image', 'input_file'"
NAME_PATTERN = (
    "string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'."
)

BAD: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"model": MODEL, "input": 5}, wrong("input", "a string or an array of input items", "an integer")),
    (items("hi"), wrong("input[0]", "an object", "a string")),
    (items({}), missing("input[0].type")),
    (items({"type": 5}), wrong("input[0].type", "a string", "an integer")),
    (items({"type": "message", "content": "hi"}), missing("input[0].role")),
    (
        items({"role": "robot", "content": "hi"}),
        invalid("input[0].role", "'robot' is not one of 'user', 'assistant', 'system', 'developer'"),
    ),
    (items({"role": "user"}), missing("input[0].content")),
    (
        items({"role": "user", "content": 5}),
        wrong("input[0].content", "a string or an array of content parts", "an integer"),
    ),
    (
        part(type="output_text", text="x"),
        invalid("input[0].content[0].type", f"'output_text'. {INPUT_PARTS}"),
    ),
    (
        items(USER, {"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}),
        invalid("input[1].content[0].type", "'input_text'. Supported values are: 'output_text', 'refusal'"),
    ),
    (part(type="input_text"), missing("input[0].content[0].text")),
    (part(type="input_text", text=["x"]), wrong("input[0].content[0].text", "a string", "an array")),
    (part(type="input_image"), missing("input[0].content[0].image_url")),
    (
        part(type="input_image", image_url="https://x.test/a.png", detail="ultra"),
        invalid("input[0].content[0].detail", "'ultra' is not one of 'auto', 'low', 'high', 'original'"),
    ),
    (part(type="input_image", image_url=5), wrong("input[0].content[0].image_url", "a string", "an integer")),
    (
        part(type="input_file", file_data={"b64": "x"}),
        wrong("input[0].content[0].file_data", "a string", "an object"),
    ),
    (items(USER, {**CALL, "arguments": None}), missing("input[1].arguments")),
    (items(USER, {**CALL, "arguments": {"a": 1}}), wrong("input[1].arguments", "a string", "an object")),
    (items(USER, {**CALL, "call_id": 7}), wrong("input[1].call_id", "a string", "an integer")),
    (items(USER, CALL, {"type": "function_call_output", "call_id": "c1"}), missing("input[2].output")),
    (
        items(
            USER,
            CALL,
            {"type": "function_call_output", "call_id": "c1", "output": [{"type": "text", "text": "x"}]},
        ),
        invalid("input[2].output[0].type", f"'text'. {INPUT_PARTS}"),
    ),
    (items(USER, {"type": "custom_tool_call_output", "output": "x"}), missing("input[1].call_id")),
    (items(USER, {"type": "custom_tool_call", "call_id": "c", "name": "exec"}), missing("input[1].input")),
    (items({"type": "reasoning", "summary": "thought"}), wrong("input[0].summary", "an array", "a string")),
    (items({"type": "reasoning", "encrypted_content": "x"}), missing("input[0].summary")),
    (
        items({"type": "reasoning", "summary": [{"type": "summary_text"}]}),
        missing("input[0].summary[0].text"),
    ),
    (items({"type": "item_reference"}), missing("input[0].id")),
    (items({"type": "compaction"}), missing("input[0].encrypted_content")),
    (
        items({"type": "additional_tools", "role": "user", "tools": []}),
        invalid("input[0].role", "'user' is not one of 'developer'"),
    ),
    (
        items({"type": "additional_tools", "role": "developer", "tools": [{"type": "function"}]}),
        missing("input[0].tools[0].name"),
    ),
    (with_(tools=[{"type": "function"}]), missing("tools[0].name")),
    (with_(tools=[{"name": "f"}]), missing("tools[0].type")),
    (
        with_(tools=[{"type": "function", "name": "f", "parameters": "{}"}]),
        wrong("tools[0].parameters", "an object", "a string"),
    ),
    (
        with_(tools=[{"type": "function", "name": "f", "strict": "yes"}]),
        wrong("tools[0].strict", "a boolean", "a string"),
    ),
    (
        with_(
            tools=[
                {
                    "type": "custom",
                    "name": "x",
                    "format": {"type": "grammar", "syntax": "peg", "definition": "a"},
                }
            ]
        ),
        invalid("tools[0].format.syntax", "'peg' is not one of 'lark', 'regex'"),
    ),
    (
        with_(
            tools=[{"type": "namespace", "name": "ns", "description": "", "tools": [{"type": "web_search"}]}]
        ),
        invalid("tools[0].tools[0].type", "'web_search'. Supported values are: 'function', 'custom'"),
    ),
    (
        with_(tools=[{"type": "web_search", "search_context_size": "huge"}]),
        invalid("tools[0].search_context_size", "'huge' is not one of 'low', 'medium', 'high'"),
    ),
    (with_(tools=[{"type": "file_search"}]), missing("tools[0].vector_store_ids")),
    (with_(tools=[{"type": "mcp", "server_url": "https://x.test"}]), missing("tools[0].server_label")),
    (
        with_(tools=[{"type": "image_generation", "quality": "ultra"}]),
        invalid("tools[0].quality", "'ultra' is not one of 'low', 'medium', 'high', 'xhigh', 'max', 'auto'"),
    ),
    (
        with_(tool_choice="sometimes"),
        invalid("tool_choice", "'sometimes' is not one of 'none', 'auto', 'required'"),
    ),
    (with_(tool_choice={"type": "function"}), missing("tool_choice.name")),
    (with_(tool_choice={"name": "f"}), missing("tool_choice.type")),
    (
        with_(tool_choice={"type": "allowed_tools", "mode": "any", "tools": []}),
        invalid("tool_choice.mode", "'any' is not one of 'auto', 'required'"),
    ),
    (
        with_(include=["everything"]),
        invalid(
            "include[0]",
            "'everything' is not one of 'file_search_call.results', 'web_search_call.results', 'web_search_call.action.sources', 'message.input_image.image_url', 'computer_call_output.output.image_url', 'code_interpreter_call.outputs', 'reasoning.encrypted_content', 'message.output_text.logprobs'",
        ),
    ),
    (with_(include="reasoning.encrypted_content"), wrong("include", "an array", "a string")),
    (with_(text={"format": {"type": "json_schema", "schema": {}}}), missing("text.format.name")),
    (with_(text={"format": {"type": "json_schema", "name": "out"}}), missing("text.format.schema")),
    (
        with_(text={"format": {"type": "json_schema", "name": "my schema", "schema": {}}}),
        envelope(f"Invalid 'text.format.name': {NAME_PATTERN}", "text.format.name", "invalid_value"),
    ),
]


@pytest.mark.parametrize(("body", "expected"), BAD, ids=[e["error"]["param"] for _, e in BAD])
async def test_a_wrong_documented_field_is_a_400_naming_it(
    gateway: Served, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert await answer(gateway.base_url, "/v1/responses", body) == (400, expected)


async def test_the_websocket_frame_is_checked_by_the_same_decoder(gateway: Served) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(gateway.base_url + "/v1/responses") as ws:
        await ws.send_str(
            '{"type": "response.create", "model": "gpt-5.5", "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x.test/a.png", "detail": "ultra"}]}]}'
        )
        assert orjson.loads((await ws.receive()).data) == {
            "type": "error",
            "status": 400,
            **invalid(
                "input[0].content[0].detail", "'ultra' is not one of 'auto', 'low', 'high', 'original'"
            ),
        }


def captured_bodies() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name in (
        "codex_chatgpt_text_http",
        "codex_chatgpt_tool_http",
        "codex_chatgpt_tool_ws",
        "codex_chatgpt_tool_http_gpt55",
        "codex_apikey_responses_tool",
        "sdk_openai",
    ):
        for captured in client_requests(name):
            body = captured.get("body")
            if captured["path"].split("?")[0].endswith("/responses") and isinstance(body, dict):
                out.append((f"{name}#{captured['seq']}", body))
    return out


CAPTURED = captured_bodies()


@pytest.mark.parametrize(("name", "body"), CAPTURED, ids=[n for n, _ in CAPTURED])
def test_every_captured_client_request_still_decodes(name: str, body: dict[str, Any]) -> None:
    body = {k: v for k, v in body.items() if k != "type"}  # a WebSocket frame's "response.create"
    req = decode(body, {})
    assert req.tools == body.get("tools", [])
    assert (req.tool_choice, req.include) == (body.get("tool_choice"), body.get("include"))
    if isinstance(body["input"], list):  # typed items pass as sent, the very objects
        typed = [
            item for item in body["input"] if "type" in item and not isinstance(item.get("content"), str)
        ]
        assert [item for item in req.input if any(item is t for t in typed)] == typed


def test_the_captures_hold_every_item_and_tool_type_codex_sends() -> None:
    kinds = {
        item.get("type") for _, body in CAPTURED for item in body["input"] if isinstance(body["input"], list)
    }
    assert kinds >= {
        "additional_tools",
        "custom_tool_call",
        "custom_tool_call_output",
        "function_call",
        "function_call_output",
        "message",
    }
    tools = {tool["type"] for _, body in CAPTURED for tool in body.get("tools", [])}
    assert tools >= {"function", "custom", "namespace", "tool_search", "web_search"}


def test_documented_shapes_decode_as_sent() -> None:
    body: dict[str, Any] = {
        "model": MODEL,
        "input": [
            {"role": "developer", "content": "be brief"},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "look"},
                    {"type": "input_image", "file_id": "file_1", "detail": "original"},
                    {"type": "input_file", "file_url": "https://x.test/a.pdf"},
                ],
            },
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "t"}],
                "content": [{"type": "text", "text": "r"}],
                "encrypted_content": "enc",
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "ok", "annotations": []},
                    {"type": "refusal", "refusal": "no"},
                ],
            },
            CALL,
            {
                "type": "function_call_output",
                "output": [{"type": "input_text", "text": "r"}],
                "caller": {"type": "direct"},
            },
            {"type": "custom_tool_call", "call_id": "c2", "name": "exec", "input": "1+1"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": "2"},
            {
                "type": "local_shell_call",
                "call_id": "c3",
                "status": "completed",
                "action": {"type": "exec", "command": ["ls"], "env": {}},
            },
            {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "q"}},
            {"type": "compaction", "encrypted_content": "enc"},
            {"id": "msg_1"},
            {"type": "program", "id": "p", "code": "x", "some_future_field": [None]},
        ],
        "tools": [
            {"type": "function", "name": "f", "parameters": None, "strict": None, "defer_loading": True},
            {
                "type": "custom",
                "name": "exec",
                "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"},
            },
            {
                "type": "web_search_preview",
                "search_context_size": "low",
                "user_location": {"type": "approximate", "city": "Paris"},
            },
            {"type": "mcp", "server_label": "s", "require_approval": "never", "allowed_tools": ["a"]},
            {"type": "image_generation", "size": "64x32", "quality": "high"},
            {"type": "a_tool_from_the_future", "x": 1},
        ],
        "tool_choice": {
            "type": "allowed_tools",
            "mode": "required",
            "tools": [{"type": "function", "name": "f"}],
        },
        "include": ["reasoning.encrypted_content", "message.output_text.logprobs"],
        "text": {
            "format": {"type": "json_schema", "name": "out_1", "schema": {"type": "object"}, "strict": True}
        },
    }
    req = decode(body, {})
    assert req.input[0] == {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "be brief"}],
    }
    assert req.input[1:] == [{"type": "message", **body["input"][1]}, *body["input"][2:]]
    assert (req.tools, req.tool_choice, req.include) == (body["tools"], body["tool_choice"], body["include"])
    assert req.text == body["text"]


async def test_a_valid_turn_through_the_door_is_served(gateway: Served) -> None:
    body: dict[str, Any] = {
        "model": MODEL,
        "stream": False,
        "include": ["reasoning.encrypted_content"],
        "tool_choice": "auto",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "hey"}]}],
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(gateway.base_url + "/v1/responses", data=orjson.dumps(body)) as resp,
    ):
        assert resp.status == 200
        assert (await resp.json())["status"] == "completed"
