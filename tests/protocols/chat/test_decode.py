"""Chat Completions requests (the openai SDK's own, captured) -> the Codex upstream body."""

from __future__ import annotations

from typing import Any

import pytest

from gptgate.dispatch.models import ModelCatalog
from gptgate.dispatch.prepare import prepare
from gptgate.errors import ModelNotFound, RequestError, UnsupportedFeature
from gptgate.protocols.chat.decode import decode
from gptgate.settings import DEFAULT_ALIASES, DEFAULT_MODELS
from gptgate.upstreams.codex.encode import encode_body
from tests.support import client_requests

CATALOG = ModelCatalog(DEFAULT_MODELS, DEFAULT_ALIASES, "gpt-5.5")
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAACAAAB4iG8MwAAAABJRU5ErkJggg=="


def upstream_body(body: dict[str, Any]) -> dict[str, Any]:
    req = prepare(decode(body), CATALOG, default_effort=None, summary="auto")
    return encode_body(req)


def test_sdk_tool_turn_with_image_and_system() -> None:
    captured = client_requests("sdk_openai")[0]["body"]  # chat, tools, image part, temperature 0
    assert upstream_body(captured) == {
        "model": "gpt-5.5",
        "instructions": "",
        "input": [
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "You are terse."}],
            },
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is in this image, and the weather in Paris?"},
                    {"type": "input_image", "image_url": PNG, "detail": "low"},
                ],
            },
        ],
        "tools": [
            {
                "type": "function",
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"location": {"type": "string"}},
                    "required": ["location"],
                },
            }
        ],
        "tool_choice": "auto",
        "reasoning": {"summary": "auto"},
        "store": False,
        "stream": True,
        "include": [],  # a chat client can never pass reasoning back: none is asked for
    }


def test_sdk_tool_result_round_trip_keeps_call_id() -> None:
    captured = client_requests("sdk_openai")[2]["body"]  # assistant tool_calls + tool message
    items = upstream_body(captured)["input"]
    assert items[2:] == [
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"location":"Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]


def test_legacy_model_names_alias_to_default_and_effort_suffix_applies() -> None:
    assert (
        upstream_body({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]})["model"]
        == "gpt-5.5"
    )
    body = upstream_body({"model": "gpt-5.4-xhigh", "messages": [{"role": "user", "content": "x"}]})
    assert (body["model"], body["reasoning"]) == ("gpt-5.4", {"effort": "xhigh", "summary": "auto"})
    explicit = {
        "model": "gpt-5.4-high",
        "reasoning_effort": "low",
        "messages": [{"role": "user", "content": "x"}],
    }
    assert upstream_body(explicit)["reasoning"]["effort"] == "low"


def test_response_format_json_schema_and_parallel_flag() -> None:
    body = upstream_body(
        {
            "model": "gpt-5.5",
            "messages": [{"role": "user", "content": "x"}],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "w", "schema": {"type": "object"}},
            },
            "parallel_tool_calls": False,
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        }
    )
    assert body["text"] == {
        "format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": False}
    }
    assert body["parallel_tool_calls"] is False
    assert body["tool_choice"] == {"type": "function", "name": "get_weather"}


def test_sampling_params_are_accepted_but_reported_and_never_sent() -> None:
    req = decode(
        {
            "model": "gpt-5.5",
            "messages": [{"role": "user", "content": "x"}],
            "temperature": 0,
            "max_tokens": 9,
        }
    )
    assert req.ignored == ["temperature", "max_tokens"]
    body = encode_body(prepare(req, CATALOG, default_effort=None, summary=None))
    assert "temperature" not in body and "max_tokens" not in body and "max_output_tokens" not in body


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"modalities": ["text", "audio"]}, "modalities"),
    ],
)
def test_unservable_parameters_are_named(body: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedFeature) as info:
        decode({"model": "gpt-5.5", "messages": [{"role": "user", "content": "x"}], **body})
    assert info.value.param == param and info.value.status == 400


@pytest.mark.parametrize(
    ("body", "param", "fragment"),
    [
        ({"messages": []}, "messages", "non-empty"),
        ({"messages": "hi"}, "messages", "expected an array, but got a string"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content", "got an integer"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role", "'wizard'"),
        ({"messages": [{"content": "x"}]}, "messages[0].role", "Missing"),
        ({"model": 7, "messages": [{"role": "user", "content": "x"}]}, "model", "expected a string"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
            "messages[0].content[0].image_url.url",
            "Missing",
        ),
    ],
)
def test_bad_requests_name_the_field(body: dict[str, Any], param: str, fragment: str) -> None:
    with pytest.raises(RequestError) as info:
        decode({"model": "gpt-5.5", **body})
    assert info.value.param == param
    assert fragment in info.value.message


def test_unknown_model_is_404() -> None:
    with pytest.raises(ModelNotFound) as info:
        prepare(
            decode({"model": "llama-3", "messages": [{"role": "user", "content": "x"}]}),
            CATALOG,
            default_effort=None,
            summary=None,
        )
    assert info.value.status == 404 and info.value.code == "model_not_found"
