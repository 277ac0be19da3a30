"""The real anthropic SDK against ``gptgate serve --demo`` (a subprocess, real sockets)."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic import Anthropic, NotFoundError

TOOLS: list[Any] = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    }
]


@pytest.fixture
def client(demo: str) -> Anthropic:
    return Anthropic(base_url=demo, api_key="sk-demo", max_retries=0, timeout=20)


def test_messages_create(client: Anthropic) -> None:
    reply = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=256,
        system="be brief",
        messages=[{"role": "user", "content": "Hello!"}],
    )
    assert reply.id.startswith("msg_") and reply.model == "claude-sonnet-4-6"
    assert reply.stop_reason == "end_turn" and reply.stop_sequence is None
    assert [b.type for b in reply.content] == ["text"]
    assert reply.content[0].text == "Hello! You said: Hello!."  # type: ignore[union-attr]
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0
    assert reply.usage.cache_read_input_tokens is not None


def test_messages_stream_helper(client: Anthropic) -> None:
    with client.messages.stream(
        model="claude-opus-4-8",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Stream please"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello! You said: Stream please."
    assert [b.type for b in final.content] == ["thinking", "text"]
    thinking = final.content[0]
    assert thinking.type == "thinking" and thinking.thinking and thinking.signature.startswith("gg1.")
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


@pytest.mark.parametrize("stream", [False, True])
def test_two_turn_tool_round_trip(client: Anthropic, stream: bool) -> None:
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    if stream:
        with client.messages.stream(
            model="claude-sonnet-4-6",
            max_tokens=4096,
            thinking={"type": "enabled", "budget_tokens": 2048},
            tools=TOOLS,
            messages=messages,
        ) as events:
            kinds = {e.type for e in events}
            first = events.get_final_message()
        assert {"message_start", "content_block_start", "input_json", "message_stop"} <= kinds
        thinking = first.content.pop(0)  # echoed below like any client does; it must be accepted
        assert thinking.type == "thinking" and thinking.signature.startswith("gg1.")
    else:
        first = client.messages.create(
            model="claude-sonnet-4-6", max_tokens=256, tools=TOOLS, messages=messages
        )
    assert first.stop_reason == "tool_use"
    (call,) = first.content
    assert call.type == "tool_use" and call.name == "get_weather"
    assert isinstance(call.input, dict) and isinstance(call.input["location"], str)
    messages.append({"role": "assistant", "content": ([thinking] if stream else []) + first.content})
    messages.append(
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 21 C"}],
        }
    )
    second = client.messages.create(model="claude-sonnet-4-6", max_tokens=256, tools=TOOLS, messages=messages)
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "Tool result received: sunny, 21 C"  # type: ignore[union-attr]


def test_raw_stream_events(client: Anthropic) -> None:
    events = list(
        client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=64,
            stream=True,
            messages=[{"role": "user", "content": "say hi"}],
        )
    )
    assert events[0].type == "message_start" and events[-1].type == "message_stop"
    assert events[-2].type == "message_delta" and events[-2].delta.stop_reason == "end_turn"


def test_count_tokens(client: Anthropic) -> None:
    small = client.messages.count_tokens(
        model="claude-sonnet-4-6", messages=[{"role": "user", "content": "hi"}]
    )
    large = client.messages.count_tokens(
        model="claude-sonnet-4-6",
        system="You are terse. " * 40,
        tools=TOOLS,
        messages=[{"role": "user", "content": "hi"}],
    )
    assert 0 < small.input_tokens < large.input_tokens


def test_models_list_and_retrieve(client: Anthropic) -> None:
    models = list(client.models.list())
    ids = [m.id for m in models]
    assert ids[:3] == ["claude-opus-4-8", "claude-sonnet-4-5", "claude-haiku-4-5"] and "gpt-5.5" in ids
    assert models[0].display_name == "Claude Opus 4.8" and models[0].type == "model"
    page = client.models.list(limit=2)
    assert [m.id for m in page.data] == ids[:2] and page.has_more
    assert client.models.retrieve("claude-opus-4-8").display_name == "Claude Opus 4.8"
    with pytest.raises(NotFoundError):
        client.models.retrieve("nope-1")
    with pytest.raises(NotFoundError):
        client.messages.create(model="nope-1", max_tokens=5, messages=[{"role": "user", "content": "x"}])
