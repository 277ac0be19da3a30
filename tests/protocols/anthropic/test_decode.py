"""Anthropic Messages requests -> canonical request: every block kind, literal items out."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import CIMultiDict

from gptgate.dispatch.models import ModelCatalog
from gptgate.dispatch.prepare import prepare
from gptgate.protocols.anthropic.decode import Decoded, decode
from gptgate.protocols.anthropic.signature import sign, unsign
from gptgate.settings import DEFAULT_ALIASES, DEFAULT_MODELS
from gptgate.upstreams.codex.encode import encode_body
from tests.support import client_requests

CATALOG = ModelCatalog(DEFAULT_MODELS, DEFAULT_ALIASES, "gpt-5.5")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAACAAAB4iG8MwAAAABJRU5ErkJggg=="


def body(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"model": "claude-opus-4-8", "max_tokens": 1024, "messages": list(messages), **extra}


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def run(data: dict[str, Any], headers: dict[str, str] | None = None) -> Decoded:
    return decode(data, CIMultiDict(headers or {}))


def items_of(*messages: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    return run(body(*messages, **extra)).req.input


def msg(role: str, *parts: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": list(parts)}


def t(text: str, role: str = "user") -> dict[str, Any]:
    return {"type": "output_text" if role == "assistant" else "input_text", "text": text}


def test_text_in_both_roles_and_string_content() -> None:
    assert items_of(
        {"role": "user", "content": "hi"},
        assistant({"type": "text", "text": "hello", "citations": None}),
        user(
            {"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "b"},
        ),
    ) == [msg("user", t("hi")), msg("assistant", t("hello", "assistant")), msg("user", t("a"), t("b"))]


def test_consecutive_turns_of_one_role_merge() -> None:
    assert items_of({"role": "user", "content": "a"}, {"role": "user", "content": "b"}) == [
        msg("user", t("a"), t("b"))
    ]


def test_images_base64_and_url() -> None:
    assert items_of(
        user(
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "text", "text": "what are these?"},
        )
    ) == [
        msg(
            "user",
            {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
            {"type": "input_image", "image_url": "https://example.com/cat.jpg"},
            t("what are these?"),
        )
    ]


def test_documents_pdf_text_url_and_content() -> None:
    pdf = {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"}
    assert items_of(
        user(
            {"type": "document", "source": pdf},
            {"type": "document", "source": pdf, "title": "report.pdf"},
            {
                "type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": "The grass is green."},
                "title": "Facts",
                "context": "From a notebook",
            },
            {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
            {
                "type": "document",
                "source": {"type": "content", "content": [{"type": "text", "text": "chunk 1"}]},
            },
        )
    ) == [
        msg(
            "user",
            {
                "type": "input_file",
                "file_data": "data:application/pdf;base64,JVBERi0x",
                "filename": "document.pdf",
            },
            {
                "type": "input_file",
                "file_data": "data:application/pdf;base64,JVBERi0x",
                "filename": "report.pdf",
            },
            t("Facts\n\nFrom a notebook\n\nThe grass is green."),
            {"type": "input_file", "file_url": "https://example.com/a.pdf"},
            t("chunk 1"),
        )
    ]


def test_tool_use_and_several_tool_results_keep_their_order() -> None:
    out = items_of(
        user({"type": "text", "text": "weather in Paris and Rome?"}),
        assistant(
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}},
        ),
        user(
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
            {
                "type": "tool_result",
                "tool_use_id": "toolu_2",
                "content": [{"type": "text", "text": "rain"}],
                "cache_control": {"type": "ephemeral"},
            },
            {"type": "text", "text": "thanks"},
        ),
    )
    assert out == [
        msg("user", t("weather in Paris and Rome?")),
        msg("assistant", t("Checking.", "assistant")),
        {
            "type": "function_call",
            "call_id": "toolu_1",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
        },
        {
            "type": "function_call",
            "call_id": "toolu_2",
            "name": "get_weather",
            "arguments": '{"city":"Rome"}',
        },
        {"type": "function_call_output", "call_id": "toolu_1", "output": "sunny"},
        {"type": "function_call_output", "call_id": "toolu_2", "output": "rain"},
        msg("user", t("thanks")),
    ]


def test_tool_results_with_errors_images_and_no_content() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/"}}
    out = items_of(
        assistant(
            {"type": "tool_use", "id": "a", "name": "shot", "input": {}},
            {"type": "tool_use", "id": "b", "name": "run", "input": {}},
            {"type": "tool_use", "id": "c", "name": "shot", "input": {}},
            {"type": "tool_use", "id": "d", "name": "run", "input": {}},
        ),
        user(
            {"type": "tool_result", "tool_use_id": "a", "content": [{"type": "text", "text": "see"}, image]},
            {"type": "tool_result", "tool_use_id": "b", "content": "exit 1", "is_error": True},
            {"type": "tool_result", "tool_use_id": "c", "content": [image], "is_error": True},
            {"type": "tool_result", "tool_use_id": "d"},
        ),
    )
    assert out[1] == {"type": "function_call", "call_id": "b", "name": "run", "arguments": "{}"}
    jpeg = {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/"}
    assert out[4:] == [
        {"type": "function_call_output", "call_id": "a", "output": [t("see"), jpeg]},
        {"type": "function_call_output", "call_id": "b", "output": "Error: exit 1"},
        {"type": "function_call_output", "call_id": "c", "output": [t("Error:"), jpeg]},
        {"type": "function_call_output", "call_id": "d", "output": ""},
    ]


def test_long_or_unsafe_ids_map_alike_on_both_sides() -> None:
    long_id = "toolu_" + "x" * 80
    out = items_of(
        assistant({"type": "tool_use", "id": long_id, "name": "f", "input": {}}),
        user({"type": "tool_result", "tool_use_id": long_id, "content": "ok"}),
    )
    assert out[0]["call_id"] == out[1]["call_id"] and len(out[0]["call_id"]) == 64


def test_our_thinking_signature_becomes_a_reasoning_item_and_others_are_dropped() -> None:
    ours = sign("rs_123", "gAAAAABencrypted")
    decoded = run(
        body(
            user({"type": "text", "text": "q"}),
            assistant(
                {"type": "thinking", "thinking": "Plan: look it up", "signature": ours},
                {"type": "thinking", "thinking": "theirs", "signature": "EqQBCkYIBxgCKkD..."},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
                {"type": "thinking", "thinking": "", "signature": "gg1.!!!not-base64-json"},
                {"type": "text", "text": "answer"},
            ),
        )
    )
    assert decoded.req.input[1:] == [
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "Plan: look it up"}],
            "encrypted_content": "gAAAAABencrypted",
            "id": "rs_123",
        },
        msg("assistant", t("answer", "assistant")),
    ]
    assert decoded.req.ignored == [
        "max_tokens",
        "messages[].content[].redacted_thinking",
        "messages[].content[].thinking",
    ]


def test_signature_round_trip_and_versioning() -> None:
    signature = sign("rs_1", "gAAAA+/=")
    assert signature.startswith("gg1.") and "=" not in signature and "+" not in signature
    assert unsign(signature) == ("rs_1", "gAAAA+/=")
    assert unsign(sign(None, "E")) == (None, "E")
    assert unsign(sign("rs_1", "")) is None  # nothing to replay
    assert unsign("gg2." + signature[4:]) is None
    assert unsign(None) is None and unsign(5) is None


def test_system_blocks_attribution_and_mid_conversation_system_entries() -> None:
    out = items_of(
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "Agents available: claude"},
        {"role": "system", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
        system=[
            {
                "type": "text",
                "text": "x-anthropic-billing-header: cc_version=2.1.197.123; cc_entrypoint=sdk-cli;",
            },
            {"type": "text", "text": "You are a Claude agent.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Be careful."},
        ],
    )
    assert out == [
        msg("developer", t("You are a Claude agent."), t("Be careful.")),
        msg("user", t("hi")),
        msg("user", t("<system-reminder>\nAgents available: claude\n</system-reminder>")),
        msg("user", t("<system-reminder>\none\n\ntwo\n</system-reminder>")),
    ]
    assert items_of({"role": "user", "content": "x"}, system="be brief")[0] == msg("developer", t("be brief"))


def test_tools_schema_cleanup_long_names_and_web_search() -> None:
    long_name = "mcp__github__" + "create_or_update_file_in_a_repository_with_a_very_long_name"
    decoded = run(
        body(
            {"role": "user", "content": "x"},
            tools=[
                {
                    "name": "Bash",
                    "description": "Run a command",
                    "input_schema": {
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "type": "object",
                        "properties": {"command": {"type": "string"}},
                        "required": ["command"],
                        "additionalProperties": False,
                    },
                    "cache_control": {"type": "ephemeral"},
                    "defer_loading": True,
                },
                {"name": long_name, "input_schema": {"type": "object"}},
                {
                    "type": "web_search_20250305",
                    "name": "web_search",
                    "max_uses": 3,
                    "allowed_domains": ["example.com"],
                    "user_location": {"type": "approximate", "city": "Paris", "country": "FR"},
                },
            ],
            tool_choice={"type": "tool", "name": long_name, "disable_parallel_tool_use": True},
        )
    )
    req = decoded.req
    short = req.tools[1]["name"]
    assert len(short) == 64 and decoded.names.client(short) == long_name
    assert req.tools == [
        {
            "type": "function",
            "name": "Bash",
            "description": "Run a command",
            "parameters": {
                "type": "object",
                "properties": {"command": {"type": "string"}},
                "required": ["command"],
                "additionalProperties": False,
            },
            "strict": False,
        },
        {
            "type": "function",
            "name": short,
            "parameters": {"type": "object", "properties": {}},
            "strict": False,
        },
        {
            "type": "web_search",
            "filters": {"allowed_domains": ["example.com"]},
            "user_location": {"type": "approximate", "city": "Paris", "country": "FR"},
        },
    ]
    assert req.tool_choice == {"type": "function", "name": short}
    assert req.parallel_tool_calls is False
    assert "tools[2].max_uses" in req.ignored


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, ("auto", True)),
        ({"type": "any"}, ("required", True)),
        ({"type": "none"}, ("none", True)),
        ({"type": "auto", "disable_parallel_tool_use": True}, ("auto", False)),
        ({"type": "any", "disable_parallel_tool_use": False}, ("required", True)),
        ({"type": "tool", "name": "web_search"}, ({"type": "web_search"}, True)),
    ],
)
def test_tool_choice(choice: dict[str, Any], expected: tuple[Any, bool | None]) -> None:
    tools = [{"type": "web_search_20250305", "name": "web_search"}]
    req = run(body({"role": "user", "content": "x"}, tools=tools, tool_choice=choice)).req
    assert (req.tool_choice, req.parallel_tool_calls) == expected


@pytest.mark.parametrize(
    ("extra", "effort", "thinking"),
    [
        ({}, None, "off"),
        ({"thinking": {"type": "enabled", "budget_tokens": 1024}, "max_tokens": 2048}, "low", "shown"),
        ({"thinking": {"type": "enabled", "budget_tokens": 10000}, "max_tokens": 16000}, "medium", "shown"),
        ({"thinking": {"type": "enabled", "budget_tokens": 31999}, "max_tokens": 32000}, "high", "shown"),
        ({"thinking": {"type": "enabled", "budget_tokens": 64000}, "max_tokens": 128000}, "xhigh", "shown"),
        ({"thinking": {"type": "adaptive"}}, "high", "shown"),
        ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}}, "low", "shown"),
        ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}, "xhigh", "shown"),
        ({"thinking": {"type": "adaptive", "display": "omitted"}}, "high", "omitted"),
        ({"thinking": {"type": "disabled"}}, "none", "off"),
        ({"output_config": {"effort": "medium"}}, "medium", "off"),
    ],
)
def test_thinking_sets_the_effort(extra: dict[str, Any], effort: str | None, thinking: str) -> None:
    decoded = run(body({"role": "user", "content": "x"}, **extra))
    assert (decoded.req.reasoning or {}).get("effort") == effort
    assert decoded.thinking == thinking


def test_structured_output_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    fmt = {"format": {"type": "json_schema", "name": "output", "schema": schema, "strict": False}}
    req = run(
        body(
            {"role": "user", "content": "x"},
            output_config={"format": {"type": "json_schema", "schema": schema}},
        )
    )
    assert req.req.text == fmt
    legacy = run(
        body({"role": "user", "content": "x"}, output_format={"type": "json_schema", "schema": schema})
    )
    assert legacy.req.text == fmt


def test_session_key_from_header_then_metadata() -> None:
    metadata = {"user_id": '{"device_id":"d","account_uuid":"","session_id":"s-meta"}'}
    data = body({"role": "user", "content": "x"}, metadata=metadata)
    assert run(data, {"X-Claude-Code-Session-Id": "s-header"}).req.prompt_cache_key == "s-header"
    assert run(data).req.prompt_cache_key == "s-meta"
    assert (
        run(body({"role": "user", "content": "x"}, metadata={"user_id": "plain"})).req.prompt_cache_key
        is None
    )
    assert (
        run(body({"role": "user", "content": "x"}, metadata={"user_id": "{bad"})).req.prompt_cache_key is None
    )


def test_sampling_and_anthropic_only_fields_are_accepted_not_forwarded() -> None:
    data = body(
        {"role": "user", "content": "x"},
        temperature=0.2,
        top_p=0.9,
        top_k=5,
        stop_sequences=["END"],
        metadata={"user_id": "u"},
        context_management={"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        cache_control={"type": "ephemeral"},
        service_tier="auto",
        stream=True,
        brand_new_field={"a": 1},
    )
    req = run(data).req
    assert req.ignored == [
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "metadata",
        "context_management",
        "cache_control",
        "service_tier",
    ]
    assert req.extras == {"brand_new_field": {"a": 1}} and req.origin == "anthropic" and req.stream
    upstream = encode_body(prepare(req, CATALOG, default_effort=None, summary=None))
    assert not {
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "stop",
        "metadata",
        "max_tokens",
        "max_output_tokens",
        "context_management",
        "brand_new_field",
    } & set(upstream)


def test_sdk_capture_to_the_upstream_body() -> None:
    captured = client_requests("sdk_anthropic")[0]["body"]
    req = prepare(run(captured).req, CATALOG, default_effort=None, summary=None)
    assert encode_body(req) == {
        "model": "gpt-5.5",
        "instructions": "",
        "input": [msg("developer", t("be brief")), msg("user", t("Weather in Paris?"))],
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
                "strict": False,
            }
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
    }


def test_server_tool_history_blocks_are_reported_not_sent() -> None:
    decoded = run(
        body(
            assistant(
                {
                    "type": "server_tool_use",
                    "id": "srvtoolu_1",
                    "name": "web_search",
                    "input": {"query": "q"},
                },
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
                {"type": "text", "text": "found"},
            )
        )
    )
    assert decoded.req.input == [msg("assistant", t("found", "assistant"))]
    assert decoded.req.ignored == [
        "max_tokens",
        "messages[].content[].server_tool_use",
        "messages[].content[].web_search_tool_result",
    ]
