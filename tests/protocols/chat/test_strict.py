"""The Chat Completions door checks the documented fields of ``messages``, ``tools``,
``tool_choice``, ``response_format``, ``logit_bias``, ``prediction``, ``audio`` and
``web_search_options`` as the API does (issue 13): a wrong one is a 400 in OpenAI's envelope
naming it, never a 200 or a 500; every request the SDK sent still decodes."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest

from gptgate.protocols.chat.decode import decode
from tests.protocols.openai_wire import answer, envelope, invalid, missing, wrong
from tests.support import Served, client_requests

MODEL = "gpt-5.5"
USER = {"role": "user", "content": "hi"}
FN = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def chat(*messages: Any, **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": list(messages) or [USER], **extra}


def calls(*tool_calls: Any) -> dict[str, Any]:
    return chat(USER, {"role": "assistant", "content": None, "tool_calls": list(tool_calls)})


def parts(role: str, *content: Any) -> dict[str, Any]:
    return chat({"role": role, "content": list(content)})


def supported(param: str, value: str, *allowed: str) -> dict[str, Any]:
    choices = ", ".join(f"'{a}'" for a in allowed)
    return invalid(param, f"'{value}'. Supported values are: {choices}")


def pattern(param: str) -> dict[str, Any]:
    return envelope(
        f"Invalid '{param}': string does not match pattern. Expected a string that matches the "
        "pattern '^[a-zA-Z0-9_-]{1,64}$'.",
        param,
        "invalid_value",
    )


IMAGE = {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}
ROLES = ("system", "developer", "user", "assistant", "tool", "function")

BAD: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (chat({"role": "robot", "content": "x"}), supported("messages[0].role", "robot", *ROLES)),
    (chat({"role": "user"}), missing("messages[0].content")),
    (chat({"role": "system", "content": None}, USER), missing("messages[0].content")),
    (chat({"role": "user", "content": "x", "name": 5}), wrong("messages[0].name", "a string", "an integer")),
    (parts("system", IMAGE), supported("messages[0].content[0].type", "image_url", "text")),
    (
        chat(USER, {"role": "assistant", "content": [IMAGE]}),
        supported("messages[1].content[0].type", "image_url", "text", "refusal"),
    ),
    (
        parts("user", {"type": "refusal", "refusal": "x"}),
        supported("messages[0].content[0].type", "refusal", "text", "image_url", "input_audio", "file"),
    ),
    (
        parts("user", {"type": "image_url", "image_url": "https://x.test/a.png"}),
        wrong("messages[0].content[0].image_url", "an object", "a string"),
    ),
    (parts("user", {"type": "image_url", "image_url": {}}), missing("messages[0].content[0].image_url.url")),
    (
        parts("user", {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "ogg"}}),
        invalid("messages[0].content[0].input_audio.format", "'ogg' is not one of 'wav', 'mp3'"),
    ),
    (parts("user", {"type": "text"}), missing("messages[0].content[0].text")),
    (
        calls({"id": "c1", "function": {"name": "f", "arguments": "{}"}}),
        missing("messages[1].tool_calls[0].type"),
    ),
    (
        calls({"id": "c1", "type": "code", "function": {"name": "f", "arguments": "{}"}}),
        supported("messages[1].tool_calls[0].type", "code", "function", "custom"),
    ),
    (
        calls({"id": "c1", "type": "custom", "custom": {"name": "exec"}}),
        missing("messages[1].tool_calls[0].custom.input"),
    ),
    (
        calls({"type": "function", "function": {"name": "f", "arguments": "{}"}}),
        missing("messages[1].tool_calls[0].id"),
    ),
    (
        chat(USER, {"role": "assistant", "function_call": {"name": "f"}}),
        missing("messages[1].function_call.arguments"),
    ),
    (chat(USER, {"role": "tool", "content": "sunny"}), missing("messages[1].tool_call_id")),
    (chat(USER, {"role": "tool", "tool_call_id": "c1"}), missing("messages[1].content")),
    (chat(tools=[{"function": {"name": "f"}}]), missing("tools[0].type")),
    (
        chat(tools=[{"type": "function", "function": {"name": "get weather"}}]),
        pattern("tools[0].function.name"),
    ),
    (chat(tools=[{"type": "function", "function": {"name": "f" * 65}}]), pattern("tools[0].function.name")),
    (
        chat(tools=[{"type": "function", "function": {"name": "f", "parameters": "{}"}}]),
        wrong("tools[0].function.parameters", "an object", "a string"),
    ),
    (chat(tools=[{"type": "custom", "custom": {"description": "x"}}]), missing("tools[0].custom.name")),
    (
        chat(tools=[{"type": "custom", "custom": {"name": "x", "format": {"type": "regex"}}}]),
        invalid("tools[0].custom.format.type", "'regex' is not one of 'text', 'grammar'"),
    ),
    (
        chat(tools=[{"type": "retrieval"}]),
        supported("tools[0].type", "retrieval", "function", "custom", "image_generation", "web_search"),
    ),
    (chat(functions=[{"name": "a.b"}]), pattern("functions[0].name")),
    (chat(tools=[FN], tool_choice="any"), supported("tool_choice", "any", "none", "auto", "required")),
    (
        chat(tools=[FN], tool_choice={"type": "function", "name": "get_weather"}),
        wrong("tool_choice.function", "an object", "null"),
    ),
    (chat(tools=[FN], tool_choice={"function": {"name": "get_weather"}}), missing("tool_choice.type")),
    (
        chat(tools=[FN], tool_choice={"type": "allowed_tools", "allowed_tools": {"tools": []}}),
        missing("tool_choice.allowed_tools.mode"),
    ),
    (
        chat(
            tools=[FN], tool_choice={"type": "allowed_tools", "allowed_tools": {"mode": "all", "tools": []}}
        ),
        invalid("tool_choice.allowed_tools.mode", "'all' is not one of 'auto', 'required'"),
    ),
    (chat(function_call="required"), supported("function_call", "required", "none", "auto")),
    (
        chat(response_format={"type": "json_schema", "json_schema": {"schema": {}}}),
        missing("response_format.json_schema.name"),
    ),
    (
        chat(response_format={"type": "json_schema", "json_schema": {"name": "my schema"}}),
        pattern("response_format.json_schema.name"),
    ),
    (
        chat(response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": []}}),
        wrong("response_format.json_schema.schema", "an object", "an array"),
    ),
    (
        chat(logit_bias={"50256": -101}),
        invalid("logit_bias.50256", "expected a number between -100 and 100, but got -101"),
    ),
    (chat(logit_bias={"50256": "1"}), wrong("logit_bias.50256", "a number", "a string")),
    (chat(prediction={"content": "x"}), missing("prediction.type")),
    (
        chat(prediction={"type": "content", "content": [{"type": "image_url", "text": "x"}]}),
        invalid("prediction.content[0].type", "'image_url' is not one of 'text'"),
    ),
    (chat(audio={"format": "wav"}), missing("audio.voice")),
    (
        chat(audio={"format": "ogg", "voice": "alloy"}),
        invalid("audio.format", "'ogg' is not one of 'wav', 'aac', 'mp3', 'flac', 'opus', 'pcm16'"),
    ),
    (
        chat(web_search_options={"user_location": {"type": "approximate"}}),
        missing("web_search_options.user_location.approximate"),
    ),
    (
        chat(web_search_options={"user_location": {"type": "exact", "approximate": {}}}),
        invalid("web_search_options.user_location.type", "'exact' is not one of 'approximate'"),
    ),
]


@pytest.mark.parametrize(("body", "expected"), BAD, ids=[e["error"]["param"] for _, e in BAD])
async def test_a_wrong_documented_field_is_a_400_naming_it(
    gateway: Served, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert await answer(gateway.base_url, "/v1/chat/completions", body) == (400, expected)


SDK = [r for r in client_requests("sdk_openai") if r["path"] == "/v1/chat/completions"]


@pytest.mark.parametrize("captured", SDK, ids=[f"sdk_openai#{r['seq']}" for r in SDK])
def test_every_captured_sdk_request_still_decodes(captured: dict[str, Any]) -> None:
    body = captured["body"]
    req = decode(body)
    assert [t["name"] for t in req.tools] == [t["function"]["name"] for t in body.get("tools", [])]
    expected = []
    for message in body["messages"]:
        if message["role"] == "tool":
            expected.append("function_call_output")
        elif message.get("content") is not None:
            expected.append("message")
        expected += ["function_call"] * len(message.get("tool_calls", []))
    assert [item["type"] for item in req.input] == expected


def test_documented_shapes_decode() -> None:
    body = chat(
        {"role": "developer", "content": [{"type": "text", "text": "be brief"}], "name": "ops"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "https://x.test/a.png", "detail": "original"}},
                {
                    "type": "file",
                    "file": {"file_data": "data:application/pdf;base64,AA==", "filename": "a.pdf"},
                },
            ],
        },
        {
            "role": "assistant",
            "content": [{"type": "refusal", "refusal": "no"}],
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
                {"id": "c2", "type": "custom", "custom": {"name": "exec", "input": "ls"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "sunny"}]},
        {"role": "tool", "tool_call_id": "c2", "content": "a.txt"},
        tools=[
            FN,
            {
                "type": "custom",
                "custom": {
                    "name": "exec",
                    "format": {"type": "grammar", "grammar": {"definition": "x", "syntax": "lark"}},
                },
            },
        ],
        tool_choice={
            "type": "allowed_tools",
            "allowed_tools": {
                "mode": "required",
                "tools": [{"type": "function", "function": {"name": "get_weather"}}],
            },
        },
        response_format={"type": "json_schema", "json_schema": {"name": "weather_1", "strict": True}},
        logit_bias={"50256": -100, "1": 100.0},
        prediction={"type": "content", "content": [{"type": "text", "text": "draft"}]},
        web_search_options={
            "search_context_size": "low",
            "user_location": {"type": "approximate", "approximate": {"city": "Paris"}},
        },
    )
    req = decode(body)
    assert [i["type"] for i in req.input] == [
        "message",
        "message",
        "message",
        "function_call",
        "custom_tool_call",
        "function_call_output",
        "custom_tool_call_output",
    ]
    assert req.input[1]["content"][1] == {
        "type": "input_image",
        "image_url": "https://x.test/a.png",
        "detail": "original",
    }
    assert req.input[5] == {"type": "function_call_output", "call_id": "c1", "output": "sunny"}
    assert req.tool_choice == {
        "type": "allowed_tools",
        "mode": "required",
        "tools": [{"type": "function", "name": "get_weather"}],
    }
    assert req.text == {"format": {"type": "json_schema", "name": "weather_1", "schema": {}, "strict": True}}
    assert [t["type"] for t in req.tools] == ["function", "custom", "web_search"]
    assert req.ignored == ["logit_bias", "prediction"]
    assert decode(chat(function_call={"name": "f"}, functions=[{"name": "f"}])).tool_choice == {
        "type": "function",
        "name": "f",
    }


async def test_a_valid_turn_through_the_door_is_served(gateway: Served) -> None:
    body = chat(
        {"role": "system", "content": [{"type": "text", "text": "be brief"}]},
        USER,
        tools=[FN],
        tool_choice="none",
        logit_bias={"1": 5},
    )
    async with (
        aiohttp.ClientSession() as http,
        http.post(gateway.base_url + "/v1/chat/completions", data=orjson.dumps(body)) as resp,
    ):
        assert resp.status == 200
        assert (await resp.json())["choices"][0]["message"]["role"] == "assistant"
