"""Documented parameters are checked as the real APIs check them (type, range, enum), naming
the field; unknown fields pass (issue 13, "Invalid input accepted")."""

from __future__ import annotations

from typing import Any

import pytest

from gptgate.errors import RequestError
from gptgate.protocols.anthropic.decode import decode as anthropic_decode
from gptgate.protocols.chat.decode import decode as chat_decode
from gptgate.protocols.gemini.decode import decode as gemini_decode
from gptgate.protocols.responses.decode import decode as responses_decode

USER = {"role": "user", "content": "hi"}


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-5.5", "messages": [USER], **extra}


def tool_turn(function: dict[str, Any]) -> dict[str, Any]:
    call = {"id": "c1", "type": "function", "function": function}
    return chat(
        messages=[
            USER,
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "x"},
        ]
    )


def image(detail: Any) -> dict[str, Any]:
    part = {"type": "image_url", "image_url": {"url": "https://x.test/a.png", "detail": detail}}
    return chat(messages=[{"role": "user", "content": [part]}])


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (chat(frequency_penalty="7"), "frequency_penalty"),
        (chat(frequency_penalty=7), "frequency_penalty"),
        (chat(presence_penalty=True), "presence_penalty"),
        (chat(temperature=2.5), "temperature"),
        (chat(top_p="1"), "top_p"),
        (chat(max_tokens=1.5), "max_tokens"),
        (chat(seed="1"), "seed"),
        (chat(stop=[None]), "stop[0]"),
        (chat(stop=[1]), "stop[0]"),
        (chat(stop=["a", "b", "c", "d", "e"]), "stop"),
        (chat(stop=5), "stop"),
        (chat(user=5), "user"),
        (chat(metadata={"a": 1}), "metadata.a"),
        (chat(reasoning_effort="extreme"), "reasoning_effort"),
        (chat(verbosity=1), "verbosity"),
        (chat(stream="yes"), "stream"),
        (chat(logit_bias=[1]), "logit_bias"),
        (tool_turn({"name": "f", "arguments": "{not json"}), "messages[1].tool_calls[0].function.arguments"),
        (tool_turn({"name": "f"}), "messages[1].tool_calls[0].function.arguments"),
        (tool_turn({"name": "f", "arguments": 5}), "messages[1].tool_calls[0].function.arguments"),
        (image("ultra"), "messages[0].content[0].image_url.detail"),
        (image(1), "messages[0].content[0].image_url.detail"),
    ],
)
def test_chat_documented_fields(body: dict[str, Any], param: str) -> None:
    with pytest.raises(RequestError) as caught:
        chat_decode(body)
    assert caught.value.param == param
    assert param in caught.value.message


def test_chat_accepts_valid_and_unknown_fields() -> None:
    req = chat_decode(chat(frequency_penalty=-2, stop="x", temperature=0, some_future_field={"x": [None]}))
    assert req.ignored == ["temperature", "frequency_penalty", "stop"]
    assert req.extras == {"some_future_field": {"x": [None]}}  # unknown: kept, not refused
    req = chat_decode(chat(stop=["a", "b"], metadata={"k": "v"}, reasoning_effort="xhigh"))
    assert (req.reasoning, req.ignored) == ({"effort": "xhigh"}, ["stop", "metadata"])
    req = chat_decode(tool_turn({"name": "f", "arguments": '{"a": 1}'}))
    assert [item["type"] for item in req.input] == ["message", "function_call", "function_call_output"]
    assert chat_decode(image("low")).input[-1]["content"][0]["detail"] == "low"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"reasoning": {"effort": ["high"]}}, "reasoning.effort"),
        ({"reasoning": {"effort": {"x": 1}}}, "reasoning.effort"),
        ({"reasoning": {"summary": "verbose"}}, "reasoning.summary"),
        ({"text": {"verbosity": 2}}, "text.verbosity"),
        ({"text": {"format": {"type": "yaml"}}}, "text.format.type"),
        ({"temperature": "hot"}, "temperature"),
        ({"max_output_tokens": "10"}, "max_output_tokens"),
        ({"truncation": "sometimes"}, "truncation"),
        ({"store": "no"}, "store"),
        ({"metadata": {"a": "x", "b": 2}}, "metadata.b"),
    ],
)
def test_responses_documented_fields(extra: dict[str, Any], param: str) -> None:
    with pytest.raises(RequestError) as caught:
        responses_decode({"model": "gpt-5.5", "input": "hi", **extra}, {})
    assert caught.value.param == param


def test_responses_codex_shapes_pass() -> None:
    body = {
        "model": "gpt-5.5",
        "input": "hi",
        "reasoning": {"effort": "xhigh", "summary": "none"},
        "text": {"verbosity": "low"},
        "store": False,
        "client_metadata": {"x": 1},
    }
    req = responses_decode(body, {})
    assert req.reasoning == {"effort": "xhigh", "summary": "none"}
    assert (req.text, req.extras) == ({"verbosity": "low"}, {"client_metadata": {"x": 1}})


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"temperature": 1.5}, "temperature"),
        ({"temperature": "1"}, "temperature"),
        ({"top_k": -1}, "top_k"),
        ({"stop_sequences": [None]}, "stop_sequences[0]"),
        ({"stop_sequences": "END"}, "stop_sequences"),
        ({"metadata": {"user_id": 5}}, "metadata.user_id"),
        ({"service_tier": "gold"}, "service_tier"),
    ],
)
def test_anthropic_documented_fields(extra: dict[str, Any], param: str) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [USER], **extra}
    with pytest.raises(RequestError) as caught:
        anthropic_decode(body, {})
    assert caught.value.param == param


@pytest.mark.parametrize(
    ("config", "param"),
    [
        ({"temperature": "1"}, "generationConfig.temperature"),
        ({"temperature": 3}, "generationConfig.temperature"),
        ({"maxOutputTokens": "10"}, "generationConfig.maxOutputTokens"),
        ({"max_output_tokens": 1.5}, "generationConfig.max_output_tokens"),
        ({"stopSequences": [None]}, "generationConfig.stopSequences[0]"),
        ({"candidateCount": 0}, "generationConfig.candidateCount"),
    ],
)
def test_gemini_generation_config(config: dict[str, Any], param: str) -> None:
    body = {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": config}
    with pytest.raises(RequestError) as caught:
        gemini_decode(body, "gemini-2.5-pro")
    assert caught.value.param == param
