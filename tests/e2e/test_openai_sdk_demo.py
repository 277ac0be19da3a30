"""The real openai SDK against ``gptgate serve --demo`` (a subprocess, real sockets)."""

from __future__ import annotations

import json

import pytest
from openai import OpenAI

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        },
    }
]


@pytest.fixture
def client(demo: str) -> OpenAI:
    return OpenAI(base_url=demo + "/v1", api_key="sk-demo", max_retries=0, timeout=20)


def test_chat_non_stream(client: OpenAI) -> None:
    reply = client.chat.completions.create(model="gpt-5.5", messages=[{"role": "user", "content": "Hello!"}])
    assert reply.choices[0].message.content == "Hello! You said: Hello!."
    assert reply.choices[0].finish_reason == "stop"
    assert (
        reply.usage is not None
        and reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    )


def test_chat_stream_with_usage(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-5.5-high",
        messages=[{"role": "user", "content": "Stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello! You said: Stream please."
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "stop"
    ]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert {c.id for c in chunks} == {chunks[0].id} and chunks[0].model == "gpt-5.5-high"


@pytest.mark.parametrize("stream", [False, True])
def test_two_turn_function_tool_round_trip(client: OpenAI, stream: bool) -> None:
    messages: list[dict[str, object]] = [{"role": "user", "content": "Weather in Paris?"}]
    if stream:
        calls: dict[int, dict[str, str]] = {}
        finish = None
        for chunk in client.chat.completions.create(
            model="gpt-5.5", messages=messages, tools=TOOLS, stream=True
        ):  # type: ignore[arg-type]
            delta = chunk.choices[0].delta
            for tc in delta.tool_calls or []:
                entry = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] = tc.id or entry["id"]
                entry["name"] += tc.function.name or "" if tc.function else ""
                entry["arguments"] += tc.function.arguments or "" if tc.function else ""
            finish = chunk.choices[0].finish_reason or finish
        assert finish == "tool_calls" and list(calls) == [0]
        call = calls[0]
    else:
        reply = client.chat.completions.create(model="gpt-5.5", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
        assert reply.choices[0].finish_reason == "tool_calls"
        tool_call = reply.choices[0].message.tool_calls[0]  # type: ignore[index]
        call = {
            "id": tool_call.id,
            "name": tool_call.function.name,
            "arguments": tool_call.function.arguments,
        }  # type: ignore[union-attr]
    assert call["name"] == "get_weather" and call["id"].startswith("call_")
    assert isinstance(json.loads(call["arguments"])["location"], str)
    messages.append(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
            ],
        }
    )
    messages.append({"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21 C"})
    second = client.chat.completions.create(model="gpt-5.5", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "Tool result received: sunny, 21 C"


def test_responses_stream_helper(client: OpenAI) -> None:
    with client.responses.stream(model="gpt-5.5", input="Say hi", instructions="be brief") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "Hello! You said: Say hi."
    assert final.status == "completed" and final.usage is not None


def test_responses_non_stream_tool_call(client: OpenAI) -> None:
    tool = {"type": "function", "name": "get_weather", "parameters": TOOLS[0]["function"]["parameters"]}  # type: ignore[index]
    response = client.responses.create(model="gpt-5.5", input="Weather in Paris?", tools=[tool])  # type: ignore[list-item]
    calls = [item for item in response.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"


def test_models_list_and_errors(client: OpenAI) -> None:
    ids = {m.id for m in client.models.list()}
    assert {"gpt-5.5", "gpt-5.5-high", "gpt-4o"} <= ids
    assert client.models.retrieve("gpt-5.5-xhigh").id == "gpt-5.5-xhigh"
    from openai import NotFoundError

    with pytest.raises(NotFoundError):
        client.chat.completions.create(model="nope-1", messages=[{"role": "user", "content": "x"}])
