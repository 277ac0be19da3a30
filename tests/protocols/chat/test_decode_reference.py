"""The Chat Completions decoder against its reference (``reference_decode.py``, the decoder as it
was before the single walk over the body's keys): for any body, the same canonical request and
``include_usage``, or the same error (class, message, param, code)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gptgate.errors import RequestError
from gptgate.protocols.chat.decode import decode, include_usage
from tests.protocols.chat import reference_decode as reference
from tests.support import client_requests


def outcome(decoder: Any, usage: Any, body: dict[str, Any]) -> Any:
    try:
        req = decoder(body)
    except RequestError as exc:
        return type(exc), exc.message, exc.param, exc.code
    return req, usage(body)


def same(body: dict[str, Any]) -> None:
    assert outcome(decode, include_usage, body) == outcome(reference.decode, reference.include_usage, body)


SCALARS = st.sampled_from(
    [None, True, False, 0, 1, 2, -3, 1.5, 300, "", "x", "auto", "none", "required", "low", "high", "text"]
)
JSON = st.recursive(
    SCALARS | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["type", "name", "x"]), inner, max_size=3)
    ),
    max_leaves=6,
)
TEXT_PART = st.fixed_dictionaries({"type": st.just("text"), "text": st.sampled_from(["hi", 3, None])})
IMAGE_PART = st.fixed_dictionaries(
    {
        "type": st.just("image_url"),
        "image_url": st.sampled_from(
            [
                {"url": "https://x.test/a.png"},
                {"url": "u", "detail": "low"},
                {"url": "u", "detail": "ultra"},
                {},
                "u",
            ]
        ),
    }
)
CONTENT: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(["hi", "", None, 3, {}]),
    st.lists(
        TEXT_PART
        | IMAGE_PART
        | st.sampled_from(
            [
                {"type": "refusal", "refusal": "no"},
                {"type": "file", "file": {"file_data": "ZGF0YQ=="}},
                {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}},
                "x",
            ]
        ),
        max_size=3,
    ),
)
TOOL_CALL = st.sampled_from(
    [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
        {"id": "c2", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}},
        {"id": "c3", "type": "function", "function": {"name": "f", "arguments": "{bad"}},
        {"id": "c4", "type": "custom", "custom": {"name": "g", "input": "raw"}},
        {"id": "c5", "type": "other"},
        {"type": "function", "function": {"name": "f", "arguments": "{}"}},
    ]
)
GOOD_MESSAGE = st.one_of(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "system", "developer"]), "content": st.just("hi")}
    ),
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["user", "assistant"]),
            "content": st.lists(TEXT_PART, min_size=1, max_size=2),
        }
    ),
    st.fixed_dictionaries(
        {"role": st.just("assistant"), "content": st.sampled_from([None, "ok"])},
        optional={"tool_calls": st.lists(TOOL_CALL, max_size=2)},
    ),
    st.sampled_from(
        [
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
            {"role": "user", "content": "hi", "name": "ann"},
        ]
    ),
)
WILD_MESSAGE = st.one_of(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(
                ["user", "system", "developer", "assistant", "tool", "function", "robot", 7]
            ),
            "content": CONTENT,
        },
        optional={
            "name": st.sampled_from(["n", 5, None]),
            "tool_call_id": st.sampled_from(["c1", "c4", 9]),
            "tool_calls": st.lists(TOOL_CALL, max_size=2) | st.just("x"),
            "function_call": st.sampled_from([{"name": "f", "arguments": "{}"}, {"name": "f"}, "x"]),
            "extra": JSON,
        },
    ),
    st.sampled_from([{"content": "hi"}, "hi", None, {"role": "user"}]),
)
MESSAGE = st.one_of(GOOD_MESSAGE, GOOD_MESSAGE, GOOD_MESSAGE, WILD_MESSAGE)
TOOL = st.sampled_from(
    [
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
        {"type": "function", "function": {"name": "bad name"}},
        {"type": "function", "function": {"name": "f", "description": 3}},
        {"type": "custom", "custom": {"name": "g", "format": {"type": "text"}}},
        {"type": "custom", "custom": {}},
        {"type": "web_search"},
        {"type": "image_generation", "size": "auto"},
        {"type": "retrieval"},
        {"function": {"name": "f"}},
        "tool",
    ]
)
VALUES: dict[str, Any] = {
    "model": st.sampled_from(["gpt-5.5", "gpt-4o-search-preview", "", 5]),
    "messages": st.lists(MESSAGE, max_size=3) | JSON,
    "stream": st.sampled_from([True, False, None, "yes"]),
    "stream_options": st.sampled_from(
        [
            {"include_usage": True},
            {"include_usage": False},
            {"include_usage": "y"},
            {},
            {"include_obfuscation": 1},
            "x",
        ]
    ),
    "tools": st.lists(TOOL, max_size=3) | JSON,
    "functions": st.lists(st.sampled_from([{"name": "f"}, {"name": 3}, "f"]), max_size=2),
    "tool_choice": st.sampled_from(
        [
            "auto",
            "none",
            "required",
            "any",
            {"type": "function", "function": {"name": "f"}},
            {"type": "custom", "custom": {"name": "g"}},
            {
                "type": "allowed_tools",
                "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "f"}}]},
            },
            {"type": "allowed_tools", "allowed_tools": {"mode": "x", "tools": []}},
            {"type": "x"},
            {},
            3,
        ]
    ),
    "function_call": st.sampled_from(["auto", "none", "f", {"name": "f"}, {}, 3]),
    "parallel_tool_calls": st.sampled_from([True, False, "no"]),
    "response_format": st.sampled_from(
        [
            {"type": "text"},
            {"type": "json_object"},
            {
                "type": "json_schema",
                "json_schema": {"name": "s", "schema": {}, "strict": True, "description": "d"},
            },
            {"type": "json_schema", "json_schema": {"name": "bad name"}},
            {"type": "json_schema"},
            {"type": "xml"},
            {},
            "json",
        ]
    ),
    "reasoning_effort": st.sampled_from(["low", "high", "xhigh", "extreme", 3]),
    "reasoning": st.sampled_from([{"effort": "low"}, {"effort": 3}, {}, "x"]),
    "verbosity": st.sampled_from(["low", "loud", 1]),
    "prompt_cache_key": st.sampled_from(["k", "a\nb", 3]),
    "session_id": st.sampled_from(["s", "a\rb", 4]),
    "service_tier": st.sampled_from(["auto", "flex", "gold", 1]),
    "n": st.sampled_from([1, 2, 0, "1", 1.0]),
    "logprobs": st.sampled_from([True, False, 1]),
    "top_logprobs": st.sampled_from([0, 3, "x"]),
    "modalities": st.sampled_from([["text"], ["audio"], ["image"], ["text", "image"], ["video"], "text"]),
    "audio": st.sampled_from([{"format": "wav", "voice": "alloy"}, {}, "x"]),
    "web_search_options": st.sampled_from(
        [
            {},
            {"search_context_size": "low"},
            {"search_context_size": "huge"},
            {"user_location": {"type": "approximate", "approximate": {"city": "Paris"}}},
            {"user_location": "x"},
            3,
        ]
    ),
    "temperature": st.sampled_from([0, 1.5, 3, "7"]),
    "top_p": st.sampled_from([0.5, 2]),
    "max_tokens": st.sampled_from([10, "10"]),
    "max_completion_tokens": st.sampled_from([10, 1.5]),
    "seed": st.sampled_from([1, "s"]),
    "stop": st.sampled_from(["x", ["a", "b"], ["a"] * 5, [1], 3]),
    "logit_bias": st.sampled_from([{"1": 5}, {"1": 500}, []]),
    "metadata": st.sampled_from([{"a": "b"}, {"a": 1}]),
    "store": st.sampled_from([True, "yes"]),
    "user": st.sampled_from(["u", 1]),
    "safety_identifier": st.sampled_from(["s", 1]),
    "prediction": st.sampled_from(
        [
            {"type": "content", "content": "x"},
            {"type": "content"},
            {"type": "content", "content": [{"type": "text", "text": 1}]},
        ]
    ),
    "prompt_cache_retention": st.sampled_from(["24h", "1y"]),
    "presence_penalty": st.sampled_from([1, -5]),
    "frequency_penalty": st.sampled_from([0, "7"]),
    "unknown_field": JSON,
    "x_vendor": JSON,
}
KEYS = sorted(VALUES)


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if draw(st.integers(0, 9)):  # the usual head: a model and messages first
        body["model"] = "gpt-5.5"
        body["messages"] = draw(st.lists(MESSAGE, min_size=1, max_size=3))
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=6, unique=True)):
        if key not in body or not draw(st.integers(0, 3)):
            body[key] = draw(VALUES[key] | st.none())
    return body


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_any_body_decodes_as_the_reference_does(body: dict[str, Any]) -> None:
    same(body)


@given(st.lists(st.sampled_from(KEYS), min_size=28, max_size=40, unique=True), st.data())
@settings(max_examples=100, deadline=None)
def test_a_body_with_more_keys_than_documented_fields_decodes_as_the_reference_does(
    keys: list[str], data: st.DataObject
) -> None:
    body: dict[str, Any] = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}
    for key in keys:
        body[key] = data.draw(VALUES[key])
    for i in range(30 - len(body)):
        body[f"vendor_{i}"] = i
    same(body)


SDK = [r["body"] for r in client_requests("sdk_openai") if r["path"] == "/v1/chat/completions"]


@pytest.mark.parametrize("body", SDK)
def test_every_captured_sdk_request_decodes_as_the_reference_does(body: dict[str, Any]) -> None:
    same(body)
