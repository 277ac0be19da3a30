"""The Anthropic door is as strict as the Messages API on every documented field (issue 13):
each bad body below is the exact JSON a client sends and gets back a 400 in Anthropic's
envelope whose message names the field; documented fields that are right, and fields the API
does not document, pass (and every real client capture still decodes)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from multidict import CIMultiDict

from gptgate.protocols.anthropic.decode import decode
from gptgate.simulator.server import RunningSimulator
from tests.protocols.anthropic.test_routes import envelope, post, upstream_bodies
from tests.support import Served, client_requests

MODEL = "claude-sonnet-4-5"
PNG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
TOOL = {"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}
CAPTURES = ["claude_code_text", "claude_code_tool", "claude_code_text_json_output", "sdk_anthropic"]


def req(*blocks: Any, role: str = "user", **extra: Any) -> dict[str, Any]:
    content: Any = list(blocks) if blocks else "hi"
    return {"model": MODEL, "max_tokens": 2048, "messages": [{"role": role, "content": content}], **extra}


def turn(*assistant_blocks: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": 2048,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": list(assistant_blocks)},
        ],
    }


def text(t: str = "x", **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": t, **extra}


def image(**source: Any) -> dict[str, Any]:
    return {"type": "image", "source": source}


def document(**source: Any) -> dict[str, Any]:
    return {"type": "document", "source": source}


def result(**extra: Any) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": "toolu_1", **extra}


def use(**extra: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}, **extra}


BAD = [
    # messages and roles
    (
        {"model": MODEL, "max_tokens": 16, "messages": []},
        "Invalid value for 'messages': at least one message is required.",
    ),
    (
        {"model": MODEL, "max_tokens": 16, "messages": [{"content": "hi"}]},
        "Missing required parameter: 'messages[0].role'.",
    ),
    (
        {"model": MODEL, "max_tokens": 16, "messages": [{"role": "bot", "content": "hi"}]},
        "Invalid value for 'messages[0].role': 'bot' is not one of 'user', 'assistant', 'system'.",
    ),
    (
        {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user"}]},
        "Missing required parameter: 'messages[0].content'.",
    ),
    (
        {"model": MODEL, "max_tokens": 16, "messages": ["hi"]},
        "Invalid type for 'messages[0]': expected an object, but got a string.",
    ),
    (
        {"model": MODEL, "max_tokens": 16, "messages": [{"role": "system", "content": [image(**PNG)]}]},
        "Invalid value for 'messages[0].content[0].type': 'image' is not one of 'text'.",
    ),
    # text blocks, cache_control, citations
    (
        req({"type": "text", "text": 5}),
        "Invalid type for 'messages[0].content[0].text': expected a string, but got an integer.",
    ),
    (
        req(text(cache_control={"type": "persistent"})),
        "Invalid value for 'messages[0].content[0].cache_control.type': 'persistent' is not one of 'ephemeral'.",
    ),
    (
        req(text(cache_control={"type": "ephemeral", "ttl": "10m"})),
        "Invalid value for 'messages[0].content[0].cache_control.ttl': '10m' is not one of '5m', '1h'.",
    ),
    (
        req(text(cache_control={"ttl": "5m"})),
        "Missing required parameter: 'messages[0].content[0].cache_control.type'.",
    ),
    (
        req(
            text(
                citations=[
                    {"type": "char_location", "cited_text": "x", "document_index": 0, "start_char_index": 0}
                ]
            )
        ),
        "Missing required parameter: 'messages[0].content[0].citations[0].end_char_index'.",
    ),
    (
        req(text(citations=[{"type": "footnote"}])),
        "Invalid value for 'messages[0].content[0].citations[0].type': 'footnote' is not one of 'char_location', 'page_location', 'content_block_location', 'web_search_result_location', 'search_result_location'.",
    ),
    # images
    (
        req(text(), image(type="base64", media_type="image/bmp", data="Qk0=")),
        "Invalid value for 'messages[0].content[1].source.media_type': 'image/bmp' is not one of 'image/jpeg', 'image/png', 'image/gif', 'image/webp'.",
    ),
    (
        req(image(type="base64", media_type="image/png")),
        "Missing required parameter: 'messages[0].content[0].source.data'.",
    ),
    (req(image(type="url")), "Missing required parameter: 'messages[0].content[0].source.url'."),
    (
        req(image(type="url", url=["https://x.test/a.png"])),
        "Invalid type for 'messages[0].content[0].source.url': expected a string, but got an array.",
    ),
    (
        req({"type": "image", "source": PNG, "transformations": {"oversized_image": "crop"}}),
        "Invalid value for 'messages[0].content[0].transformations.oversized_image': 'crop' is not one of 'downsize', 'error'.",
    ),
    # documents
    (
        req(document(type="base64", media_type="image/png", data="x")),
        "Invalid value for 'messages[0].content[0].source.media_type': 'image/png' is not one of 'application/pdf'.",
    ),
    (
        req(document(type="text", media_type="text/markdown", data="# x")),
        "Invalid value for 'messages[0].content[0].source.media_type': 'text/markdown' is not one of 'text/plain'.",
    ),
    (
        req(document(type="text", media_type="text/plain")),
        "Missing required parameter: 'messages[0].content[0].source.data'.",
    ),
    (
        req(document(type="content", content=[{"type": "tool_use"}])),
        "Invalid value for 'messages[0].content[0].source.content[0].type': 'tool_use' is not one of 'text', 'image'.",
    ),
    (
        req({"type": "document", "source": {"type": "url", "url": "https://x.test/a.pdf"}, "title": 7}),
        "Invalid type for 'messages[0].content[0].title': expected a string, but got an integer.",
    ),
    (
        req(
            {
                "type": "document",
                "source": {"type": "url", "url": "https://x.test/a.pdf"},
                "citations": {"enabled": "yes"},
            }
        ),
        "Invalid type for 'messages[0].content[0].citations.enabled': expected a boolean, but got a string.",
    ),
    # tool_use / tool_result / thinking
    (
        turn({"type": "tool_use", "name": "get_weather", "input": {}}),
        "Missing required parameter: 'messages[1].content[0].id'.",
    ),
    (
        turn({"type": "tool_use", "id": "toolu_1", "input": {}}),
        "Missing required parameter: 'messages[1].content[0].name'.",
    ),
    (
        turn({"type": "tool_use", "id": "toolu_1", "name": "get_weather"}),
        "Missing required parameter: 'messages[1].content[0].input'.",
    ),
    (
        turn(use(input=["Paris"])),
        "Invalid type for 'messages[1].content[0].input': expected an object, but got an array.",
    ),
    (
        req(result(is_error="false")),
        "Invalid type for 'messages[0].content[0].is_error': expected a boolean, but got a string.",
    ),
    (
        req(result(content={"type": "text", "text": "x"})),
        "Invalid type for 'messages[0].content[0].content': expected a string or an array of content blocks, but got an object.",
    ),
    (
        req(result(content=[{"type": "text"}])),
        "Missing required parameter: 'messages[0].content[0].content[0].text'.",
    ),
    (
        req(result(content=[image(type="base64", media_type="image/tiff", data="x")])),
        "Invalid value for 'messages[0].content[0].content[0].source.media_type': 'image/tiff' is not one of 'image/jpeg', 'image/png', 'image/gif', 'image/webp'.",
    ),
    (
        req(result(tool_use_id=5)),
        "Invalid type for 'messages[0].content[0].tool_use_id': expected a string, but got an integer.",
    ),
    (
        turn({"type": "thinking", "thinking": "hm"}),
        "Missing required parameter: 'messages[1].content[0].signature'.",
    ),
    (
        turn({"type": "thinking", "thinking": 1, "signature": "s"}),
        "Invalid type for 'messages[1].content[0].thinking': expected a string, but got an integer.",
    ),
    (turn({"type": "redacted_thinking"}), "Missing required parameter: 'messages[1].content[0].data'."),
    # system
    (
        req(
            system=[{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral", "ttl": 300}}]
        ),
        "Invalid type for 'system[0].cache_control.ttl': expected a string, but got an integer.",
    ),
    (
        req(system={"type": "text", "text": "be brief"}),
        "Invalid type for 'system': expected a string or an array of text blocks, but got an object.",
    ),
    # tools
    (
        req(tools=[{"name": "get weather", "input_schema": {"type": "object"}}]),
        "Invalid value for 'tools[0].name': 'get weather' does not match the pattern '^[a-zA-Z0-9_-]{1,128}$'.",
    ),
    (
        req(tools=[{"name": "x" * 129, "input_schema": {"type": "object"}}]),
        "Invalid value for 'tools[0].name': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' does not match the pattern '^[a-zA-Z0-9_-]{1,128}$'.",
    ),
    (
        req(tools=[{"name": "f", "input_schema": {"properties": {}}}]),
        "Missing required parameter: 'tools[0].input_schema.type'.",
    ),
    (
        req(tools=[{"name": "f", "input_schema": {"type": "array"}}]),
        "Invalid value for 'tools[0].input_schema.type': 'array' is not one of 'object'.",
    ),
    (
        req(tools=[{"name": "f", "input_schema": {"type": "object", "required": "city"}}]),
        "Invalid type for 'tools[0].input_schema.required': expected an array, but got a string.",
    ),
    (
        req(tools=[{**TOOL, "description": ["weather"]}]),
        "Invalid type for 'tools[0].description': expected a string, but got an array.",
    ),
    (req(tools=[{**TOOL, "type": "function"}]), "Invalid value for 'tools[0].type': 'function'."),
    (
        req(tools=[{**TOOL, "strict": "true"}]),
        "Invalid type for 'tools[0].strict': expected a boolean, but got a string.",
    ),
    (
        req(tools=[{"type": "web_search_20250305", "name": "search"}]),
        "Invalid value for 'tools[0].name': 'search' is not one of 'web_search'.",
    ),
    (
        req(tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 0}]),
        "Invalid value for 'tools[0].max_uses': expected an integer of at least 1, but got 0.",
    ),
    (
        req(tools=[{"type": "web_search_20250305", "name": "web_search", "allowed_domains": "x.test"}]),
        "Invalid type for 'tools[0].allowed_domains': expected an array, but got a string.",
    ),
    (
        req(
            tools=[{"type": "web_search_20250305", "name": "web_search", "user_location": {"city": "Paris"}}]
        ),
        "Missing required parameter: 'tools[0].user_location.type'.",
    ),
    # tool_choice
    (
        req(tools=[TOOL], tool_choice={"type": "required"}),
        "Invalid value for 'tool_choice.type': 'required' is not one of 'auto', 'any', 'tool', 'none'.",
    ),
    (req(tools=[TOOL], tool_choice={"type": "tool"}), "Missing required parameter: 'tool_choice.name'."),
    (
        req(tools=[TOOL], tool_choice={"type": "auto", "disable_parallel_tool_use": "yes"}),
        "Invalid type for 'tool_choice.disable_parallel_tool_use': expected a boolean, but got a string.",
    ),
    (
        req(tools=[TOOL], tool_choice="auto"),
        "Invalid type for 'tool_choice': expected an object, but got a string.",
    ),
    # thinking
    (
        req(thinking={"type": "enabled", "budget_tokens": 1023}),
        "Invalid value for 'thinking.budget_tokens': expected an integer of at least 1024, but got 1023.",
    ),
    (
        req(thinking={"type": "enabled", "budget_tokens": 2048}),
        "Invalid value for 'thinking.budget_tokens': max_tokens (2048) must be greater than thinking.budget_tokens (2048).",
    ),
    (
        req(thinking={"type": "enabled", "budget_tokens": "4096"}),
        "Invalid type for 'thinking.budget_tokens': expected an integer, but got a string.",
    ),
    (
        req(thinking={"type": "adaptive", "display": "full"}),
        "Invalid value for 'thinking.display': 'full' is not one of 'summarized', 'omitted'.",
    ),
    (req(thinking={"budget_tokens": 1024}), "Missing required parameter: 'thinking.type'."),
    # output config
    (
        req(output_config={"effort": "minimal"}),
        "Invalid value for 'output_config.effort': 'minimal' is not one of 'low', 'medium', 'high', 'xhigh', 'max'.",
    ),
    (
        req(output_config={"format": {"type": "json_schema"}}),
        "Missing required parameter: 'output_config.format.schema'.",
    ),
    (
        req(output_config={"format": {"type": "json_object", "schema": {}}}),
        "Invalid value for 'output_config.format.type': 'json_object' is not one of 'json_schema'.",
    ),
    # other documented top-level fields
    (
        req(cache_control={"type": "ephemeral", "ttl": "2h"}),
        "Invalid value for 'cache_control.ttl': '2h' is not one of '5m', '1h'.",
    ),
    (req(speed="ludicrous"), "Invalid value for 'speed': 'ludicrous' is not one of 'standard', 'fast'."),
    (req(container=5), "Invalid type for 'container': expected a string or an object, but got an integer."),
    (req(workspace_id=5), "Invalid type for 'workspace_id': expected a string, but got an integer."),
]


def named_field(message: str) -> str:
    """The field path a 400's message names (``'messages[0].content[1].source.media_type'``)."""
    return message.split("'")[1]


@pytest.mark.parametrize(("data", "message"), BAD)
async def test_bad_field_is_a_400_naming_it(gateway: Served, data: dict[str, Any], message: str) -> None:
    status, headers, body = await post(gateway.base_url, "/v1/messages", data)
    assert status == 400
    assert envelope(body) == {"type": "invalid_request_error", "message": message}
    assert headers["request-id"] == orjson.loads(body)["request_id"]
    assert named_field(message).split("[")[0].split(".")[0] in data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "model": MODEL,
                "messages": [
                    {"role": "user", "content": [image(type="base64", media_type="image/bmp", data="Qk0=")]}
                ],
            },
            "Invalid value for 'messages[0].content[0].source.media_type': 'image/bmp' is not one of "
            "'image/jpeg', 'image/png', 'image/gif', 'image/webp'.",
        ),
        (
            {
                "model": MODEL,
                "messages": [{"role": "user", "content": "hi"}],
                "tools": [{"name": "a b", "input_schema": {"type": "object"}}],
            },
            "Invalid value for 'tools[0].name': 'a b' does not match the pattern '^[a-zA-Z0-9_-]{1,128}$'.",
        ),
        (
            {
                "model": MODEL,
                "messages": [{"role": "user", "content": "hi"}],
                "thinking": {"type": "enabled", "budget_tokens": 512},
            },
            "Invalid value for 'thinking.budget_tokens': expected an integer of at least 1024, but got 512.",
        ),
    ],
)
async def test_count_tokens_checks_the_same_fields(
    gateway: Served, data: dict[str, Any], message: str
) -> None:
    status, _, body = await post(gateway.base_url, "/v1/messages/count_tokens", data)
    assert (status, envelope(body)) == (400, {"type": "invalid_request_error", "message": message})


async def test_count_tokens_has_no_max_tokens_to_bound_the_budget(gateway: Served) -> None:
    data = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "thinking": {"type": "enabled", "budget_tokens": 4096},
    }
    status, _, body = await post(gateway.base_url, "/v1/messages/count_tokens", data)
    assert status == 200 and orjson.loads(body)["input_tokens"] > 0


def captured() -> list[Any]:
    out = []
    for name in CAPTURES:
        for record in client_requests(name):
            body = record.get("body")
            if record["method"] == "POST" and isinstance(body, dict) and "messages" in body:
                out.append(pytest.param(record, id=f"{name}-{record['seq']}"))
    return out


@pytest.mark.parametrize("record", captured())
def test_every_captured_client_request_still_decodes(record: dict[str, Any]) -> None:
    body = record["body"]
    decoded = decode(body, CIMultiDict(record["headers"]), count_only="count_tokens" in record["path"])
    assert decoded.req.model == body["model"]
    assert [t["name"] for t in decoded.req.tools] == [t["name"] for t in body.get("tools", [])]
    assert decoded.req.input  # every message became items


def test_every_documented_field_right_passes_and_unknown_fields_are_kept() -> None:
    cited = text(
        "Paris is sunny.",
        cache_control={"type": "ephemeral", "ttl": "1h"},
        citations=[
            {
                "type": "char_location",
                "cited_text": "sunny",
                "document_index": 0,
                "document_title": None,
                "start_char_index": 0,
                "end_char_index": 5,
            }
        ],
        future_block_field=1,
    )
    data = {
        "model": MODEL,
        "max_tokens": 4096,
        "messages": [
            {
                "role": "user",
                "content": [
                    cited,
                    {"type": "image", "source": PNG, "transformations": {"oversized_image": "downsize"}},
                ],
            },
            {"role": "assistant", "content": [use(input={"city": "Paris"}, caller={"type": "direct"})]},
            {
                "role": "user",
                "content": [
                    result(content=[text("sunny")], is_error=False, cache_control={"type": "ephemeral"})
                ],
            },
        ],
        "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral", "ttl": "5m"}}],
        "tools": [
            {
                **TOOL,
                "description": "Weather for a city",
                "strict": True,
                "eager_input_streaming": False,
                "defer_loading": False,
                "input_examples": [{"city": "Paris"}],
                "allowed_callers": ["direct"],
                "cache_control": {"type": "ephemeral"},
            },
            {
                "type": "web_search_20260318",
                "name": "web_search",
                "max_uses": 2,
                "allowed_domains": ["x.test"],
                "response_inclusion": "excluded",
                "user_location": {"type": "approximate", "city": "Paris", "timezone": "Europe/Paris"},
            },
        ],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "thinking": {"type": "enabled", "budget_tokens": 2048, "display": "summarized"},
        "output_config": {"effort": "low", "format": {"type": "json_schema", "schema": {"type": "object"}}},
        "cache_control": {"type": "ephemeral"},
        "container": "container_1",
        "speed": "standard",
        "workspace_id": "wrkspc_1",
        "future_top_level_field": {"anything": [1, "two"]},
    }
    decoded = decode(data, {})
    req = decoded.req
    assert req.input[0] == {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "be brief"}],
    }
    assert req.input[1] == {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "Paris is sunny."},
            {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="},
        ],
    }
    assert req.input[-1] == {"type": "function_call_output", "call_id": "toolu_1", "output": "sunny"}
    assert req.tools[1] == {
        "type": "web_search",
        "filters": {"allowed_domains": ["x.test"]},
        "user_location": {"type": "approximate", "city": "Paris", "timezone": "Europe/Paris"},
    }
    assert (req.tool_choice, req.parallel_tool_calls) == ("required", False)
    assert (req.reasoning, decoded.thinking) == ({"effort": "low"}, "shown")
    assert req.extras == {"future_top_level_field": {"anything": [1, "two"]}}
    assert {"cache_control", "container", "speed", "workspace_id"} <= set(req.ignored)


@pytest.mark.parametrize(
    ("thinking", "effort", "display"),
    [
        ({"type": "between_tools"}, "high", "shown"),
        ({"type": "adaptive", "display": "omitted"}, "high", "omitted"),
        ({"type": "disabled"}, "none", "off"),
    ],
)
def test_thinking_forms_the_sdk_documents(thinking: dict[str, Any], effort: str, display: str) -> None:
    decoded = decode(req(thinking=thinking), {})
    assert (decoded.req.reasoning, decoded.thinking) == ({"effort": effort}, display)


async def test_unknown_fields_in_blocks_and_tools_pass_over_the_wire(
    gateway: Served, simulator: RunningSimulator
) -> None:
    data = req(
        text("Hello!", brand_new_field={"x": 1}),
        tools=[{**TOOL, "brand_new_tool_field": True}],
        brand_new_top_level={"y": 2},
    )
    status, _, body = await post(gateway.base_url, "/v1/messages", data)
    assert status == 200 and orjson.loads(body)["type"] == "message"
    sent = upstream_bodies(simulator)[-1]
    assert sent["input"][0]["content"] == [{"type": "input_text", "text": "Hello!"}]
    assert [t["name"] for t in sent["tools"]] == ["get_weather"]
    assert "brand_new_top_level" not in sent
