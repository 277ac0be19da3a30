"""The Responses decoder against its reference (``reference_decode.py``, the decoder as it was
before the single walk over the body's keys): for any body, the same canonical request or the
same error (class, message, param, code)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gptgate.errors import RequestError
from gptgate.protocols.responses.decode import decode
from tests.protocols.responses import reference_decode as reference
from tests.protocols.responses.test_strict import CAPTURED

HEADERS = {"session_id": "s-1", "originator": "codex_exec", "x-other": "no"}


def outcome(decoder: Any, body: dict[str, Any]) -> Any:
    try:
        return decoder(body, HEADERS)
    except RequestError as exc:
        return type(exc), exc.message, exc.param, exc.code


def same(body: dict[str, Any]) -> None:
    assert outcome(decode, body) == outcome(reference.decode, body)


SCALARS = st.sampled_from([None, True, False, 0, 1, -3, 1.5, "", "x", "auto", "none", "low", "high"])
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["type", "name", "role", "x"]), inner, max_size=3)
    ),
    max_leaves=6,
)
ITEM = st.sampled_from(
    [
        {"role": "user", "content": "hi"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
        {"type": "message", "role": "assistant", "content": "ok"},
        {"type": "message", "role": "user", "content": [{"type": "output_text", "text": "no"}]},
        {"type": "message", "role": "robot", "content": "x"},
        {"type": "message", "role": "user"},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        {"type": "function_call", "call_id": "c", "name": 3, "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c", "output": "42"},
        {"type": "function_call_output", "output": 42},
        {"type": "reasoning", "summary": [], "encrypted_content": "e"},
        {"type": "reasoning"},
        {"type": "item_reference", "id": "r"},
        {"id": "r"},
        {"type": "future_item", "x": 1},
        {"type": 5},
        {},
        "hi",
    ]
)
TOOL = st.sampled_from(
    [
        {"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": False},
        {"type": "function", "parameters": {}},
        {"type": "web_search"},
        {"type": "web_search", "search_context_size": "huge"},
        {"type": "custom", "name": "g", "format": {"type": "text"}},
        {"type": "namespace", "name": "n", "tools": []},
        {"type": "brand_new"},
        {"name": "f"},
        "f",
    ]
)
VALUES: dict[str, Any] = {
    "model": st.sampled_from(["gpt-5.5", "", 5]),
    "input": st.lists(ITEM, max_size=3) | st.sampled_from(["hi", "", 3, {}]),
    "instructions": st.sampled_from(["be terse", "", 3]),
    "stream": st.sampled_from([True, False, "yes"]),
    "store": st.sampled_from([False, "no"]),
    "tools": st.lists(TOOL, max_size=3) | JSON,
    "tool_choice": st.sampled_from(
        [
            "auto",
            "none",
            "required",
            "any",
            {"type": "function", "name": "f"},
            {"type": "function"},
            {"type": "web_search"},
            {},
            3,
        ]
    ),
    "parallel_tool_calls": st.sampled_from([True, False, "no"]),
    "reasoning": st.sampled_from(
        [{"effort": "low", "summary": "auto"}, {"effort": "extreme"}, {"summary": "none"}, {}, "x"]
    ),
    "text": st.sampled_from(
        [
            {"verbosity": "low"},
            {"verbosity": "loud"},
            {"format": {"type": "json_schema", "name": "s", "schema": {}}},
            {"format": {"type": "json_schema"}},
            {"format": {"type": "xml"}},
            "x",
        ]
    ),
    "include": st.sampled_from([[], ["reasoning.encrypted_content"], ["nope"], [3], "x"]),
    "prompt_cache_key": st.sampled_from(["k", "", "a\nb", 3]),
    "session_id": st.sampled_from(["s", "", "a\rb", 4]),
    "service_tier": st.sampled_from(["auto", "priority", "gold", 1]),
    "temperature": st.sampled_from([1, 3, "7"]),
    "max_output_tokens": st.sampled_from([10, "10"]),
    "metadata": st.sampled_from([{"a": "b"}, {"a": 1}]),
    "truncation": st.sampled_from(["auto", "sometimes"]),
    "previous_response_id": st.sampled_from(["r", 1]),
    "prompt_cache_retention": st.sampled_from(["24h", "1y"]),
    "client_metadata": JSON,
    "x_vendor": JSON,
}
KEYS = sorted(VALUES)


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        body["model"] = "gpt-5.5"
        body["input"] = draw(st.lists(ITEM, min_size=1, max_size=3))
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=6, unique=True)):
        if key not in body or not draw(st.integers(0, 3)):
            body[key] = draw(VALUES[key] | st.none())
    return body


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_any_body_decodes_as_the_reference_does(body: dict[str, Any]) -> None:
    same(body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([body for _, body in CAPTURED]), st.lists(st.sampled_from(KEYS), max_size=3), st.data()
)
def test_a_captured_body_changed_decodes_as_the_reference_does(
    captured: dict[str, Any], keys: list[str], data: st.DataObject
) -> None:
    body = {k: v for k, v in copy.deepcopy(captured).items() if k != "type"}
    for key in keys:
        body[key] = data.draw(VALUES[key] | st.none())
    same(body)


@given(st.lists(st.sampled_from(KEYS), min_size=18, max_size=len(KEYS), unique=True), st.data())
@settings(max_examples=100, deadline=None)
def test_a_body_with_more_keys_than_documented_fields_decodes_as_the_reference_does(
    keys: list[str], data: st.DataObject
) -> None:
    body: dict[str, Any] = {"model": "gpt-5.5", "input": "hi"}
    for key in keys:
        body[key] = data.draw(VALUES[key])
    for i in range(24 - len(body)):
        body[f"vendor_{i}"] = i
    same(body)


@pytest.mark.parametrize(("name", "body"), CAPTURED, ids=[n for n, _ in CAPTURED])
def test_every_captured_body_decodes_as_the_reference_does(name: str, body: dict[str, Any]) -> None:
    same({k: v for k, v in body.items() if k != "type"})
