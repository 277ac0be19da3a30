"""Gemini requests (google-genai's own, captured, and every part kind) -> canonical items."""

from __future__ import annotations

from typing import Any

import pytest

from gptgate.canonical.names import short_name
from gptgate.dispatch.models import ModelCatalog
from gptgate.dispatch.prepare import prepare
from gptgate.errors import RequestError, UnsupportedFeature
from gptgate.protocols.gemini import signature
from gptgate.protocols.gemini.decode import decode, decode_count
from gptgate.settings import DEFAULT_ALIASES, DEFAULT_MODELS
from gptgate.upstreams.codex.encode import encode_body
from tests.support import client_requests

CATALOG = ModelCatalog(DEFAULT_MODELS, DEFAULT_ALIASES, "gpt-5.5")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAACAAAB4iG8MwAAAABJRU5ErkJggg=="
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
        "type": "object",
    },
    "strict": False,
}


def items_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return decode(body, "gemini-2.5-flash").request.input


def user(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "parts": list(parts)}


def model(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": "model", "parts": list(parts)}


# -- the capture (google-genai 3.4.0), upstream bodies in full
def test_captured_text_request_with_system_instruction() -> None:
    captured = client_requests("sdk_genai")[0]
    assert captured["path"] == "/v1/models/gemini-2.5-flash:generateContent"
    decoded = decode(captured["body"], "gemini-2.5-flash")
    req = prepare(decoded.request, CATALOG, default_effort=None, summary=None)
    assert req.ignored == ["generationConfig.temperature"]
    assert decoded.include_thoughts is False
    assert encode_body(req) == {
        "model": "gpt-5.4-mini",
        "instructions": "",
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "be brief"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hi"}]},
        ],
        "tools": [],
        "tool_choice": "auto",
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
    }


def test_captured_tool_declaration_becomes_a_lower_case_json_schema_tool() -> None:
    req = decode(client_requests("sdk_genai")[1]["body"], "gemini-2.5-flash").request
    assert req.tools == [WEATHER] and req.parallel_tool_calls is True
    assert req.tool_choice is None and req.ignored == []


def test_captured_function_round_trip_pairs_the_response_with_the_call_by_name() -> None:
    body = client_requests("sdk_genai")[3]["body"]  # call and response without ids
    assert items_of(body) == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]},
        {
            "type": "function_call",
            "call_id": "call_gemini_1",
            "name": "get_weather",
            "arguments": '{"location":"Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_gemini_1", "output": '{"result":"sunny"}'},
    ]


def test_every_captured_generate_request_decodes_without_loss() -> None:
    for record in client_requests("sdk_genai"):
        if record["method"] != "POST":
            continue
        decoded = decode(record["body"], record["path"].split("/models/")[1].split(":")[0])
        req = decoded.request
        assert req.extras == {}
        texts = [p["text"] for it in req.input if it["type"] == "message" for p in it["content"]]
        sent = [
            p["text"]
            for c in [*record["body"]["contents"], record["body"].get("systemInstruction") or {"parts": []}]
            for p in c["parts"]
            if "text" in p
        ]
        assert sorted(texts) == sorted(sent)


# -- part kinds
def test_inline_data_image_and_file_and_file_data() -> None:
    got = items_of(
        {
            "contents": [
                user(
                    {"text": "look"},
                    {"inlineData": {"mimeType": "image/png", "data": PNG}},
                    {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0x"}},
                    {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://x.test/a.jpg"}},
                    {"fileData": {"mimeType": "application/pdf", "fileUri": "https://x.test/a.pdf"}},
                )
            ]
        }
    )
    assert got == [
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
                {
                    "type": "input_file",
                    "file_data": "data:application/pdf;base64,JVBERi0x",
                    "filename": "document.pdf",
                },
                {"type": "input_image", "image_url": "https://x.test/a.jpg"},
                {"type": "input_file", "file_url": "https://x.test/a.pdf"},
            ],
        }
    ]


def test_snake_case_proto_json_is_read_like_camel_case() -> None:
    sig = signature.encode("gAAAAsnake")
    decoded = decode(
        {
            "system_instruction": {"parts": [{"text": "sys"}]},
            "contents": [
                user({"inline_data": {"mime_type": "image/png", "data": "ab-_"}}),
                model({"function_call": {"name": "f", "args": {"a": 1}}, "thought_signature": sig}),
                user({"function_response": {"name": "f", "response": {"ok": True}}}),
                user({"file_data": {"file_uri": "https://x.test/p.png"}}),
            ],
            "tools": [
                {"function_declarations": [{"name": "f", "parameters_json_schema": {"type": "object"}}]}
            ],
            "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["f"]}},
            "generation_config": {
                "thinking_config": {"thinking_budget": 0, "include_thoughts": True},
                "response_mime_type": "application/json",
                "max_output_tokens": 5,
            },
        },
        "m",
    )
    req = decoded.request
    assert req.input == [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "sys"}]},
        # URL-safe base64 (how proto JSON may write bytes) becomes the standard alphabet
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_image", "image_url": "data:image/png;base64,ab+/"}],
        },
        {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAsnake"},
        {"type": "function_call", "call_id": "call_gemini_1", "name": "f", "arguments": '{"a":1}'},
        {"type": "function_call_output", "call_id": "call_gemini_1", "output": '{"ok":true}'},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_image", "image_url": "https://x.test/p.png"}],
        },
    ]
    assert req.tools == [{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": False}]
    assert req.tool_choice == {"type": "function", "name": "f"}
    assert req.reasoning == {"effort": "none"} and decoded.include_thoughts
    assert req.text == {"format": {"type": "json_object"}}
    assert req.ignored == ["generationConfig.max_output_tokens"]


def test_thought_parts_are_not_resent_and_our_signature_becomes_a_reasoning_item() -> None:
    ours = signature.encode("gAAAAours")
    got = items_of(
        {
            "contents": [
                user({"text": "q"}),
                model(
                    {"text": "**Thinking**", "thought": True},
                    {"text": "The answer", "thoughtSignature": ours},
                    {"text": " is 4."},
                    {"text": "", "thoughtSignature": "Zm9yZWlnbg=="},  # a foreign signature: dropped
                ),
                user({"text": "thanks"}),
            ]
        }
    )
    assert got == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q"}]},
        {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAours"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "The answer is 4."}],
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "thanks"}]},
    ]


def test_streamed_model_turns_stored_chunk_by_chunk_are_joined_again() -> None:
    got = items_of(
        {
            "contents": [
                user({"text": "hi"}),
                model({"text": "Hel"}),
                model({"text": "lo"}),
                model({"text": ""}),
            ]
        }
    )
    assert got[1] == {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Hello"}],
    }


def test_foreign_signature_is_reported_as_ignored() -> None:
    req = decode({"contents": [model({"text": "x", "thoughtSignature": "Zm9v"}), user({"text": "y"})]}, "m")
    assert req.request.ignored == ["thoughtSignature"]
    assert all(item["type"] == "message" for item in req.request.input)


def test_function_responses_pair_with_the_oldest_pending_call_of_the_same_name() -> None:
    got = items_of(
        {
            "contents": [
                user({"text": "go"}),
                model(
                    {"functionCall": {"name": "a", "args": {"n": 1}}},
                    {"functionCall": {"name": "b", "args": {}}},
                    {"functionCall": {"name": "a", "args": {"n": 2}}},
                ),
                user(
                    {"functionResponse": {"name": "b", "response": {"r": "b"}}},
                    {"functionResponse": {"name": "a", "response": {"r": "a1"}}},
                    {"functionResponse": {"name": "a", "response": {"r": "a2"}}},
                ),
            ]
        }
    )
    calls = {it["call_id"]: it["arguments"] for it in got if it["type"] == "function_call"}
    outputs = [(it["call_id"], it["output"]) for it in got if it["type"] == "function_call_output"]
    assert outputs == [
        ("call_gemini_2", '{"r":"b"}'),
        ("call_gemini_1", '{"r":"a1"}'),
        ("call_gemini_3", '{"r":"a2"}'),
    ]
    assert calls["call_gemini_1"] == '{"n":1}' and calls["call_gemini_3"] == '{"n":2}'


def test_explicit_ids_round_trip_and_long_names_are_shortened() -> None:
    long_name = "mcp__server__" + "x" * 70
    decoded = decode(
        {
            "contents": [
                user({"text": "go"}),
                model({"functionCall": {"id": "call_abc", "name": long_name, "args": {}}}),
                user({"functionResponse": {"id": "call_abc", "name": long_name, "response": {"ok": 1}}}),
            ],
            "tools": [{"functionDeclarations": [{"name": long_name}]}],
        },
        "m",
    )
    req = decoded.request
    short = short_name(long_name)
    assert [it.get("call_id") for it in req.input[1:]] == ["call_abc", "call_abc"]
    assert req.input[1]["name"] == short and req.tools[0]["name"] == short
    assert req.tools[0]["parameters"] == {"type": "object", "properties": {}}
    assert decoded.names.client(short) == long_name


def test_function_response_with_media_parts_becomes_a_content_array() -> None:
    got = items_of(
        {
            "contents": [
                user({"text": "go"}),
                model({"functionCall": {"id": "c1", "name": "shot", "args": {}}}),
                user(
                    {
                        "functionResponse": {
                            "id": "c1",
                            "name": "shot",
                            "response": {"ok": True},
                            "parts": [{"inlineData": {"mimeType": "image/png", "data": PNG}}],
                        }
                    }
                ),
            ]
        }
    )
    assert got[-1] == {
        "type": "function_call_output",
        "call_id": "c1",
        "output": [
            {"type": "input_text", "text": '{"ok":true}'},
            {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
        ],
    }


# -- tools, tool config, generation config
def test_google_search_is_the_upstream_web_search_tool() -> None:
    req = decode(
        {"contents": [user({"text": "news?"})], "tools": [{"googleSearch": {}}, {"google_search": {}}]}, "m"
    )
    assert req.request.tools == [{"type": "web_search"}]


@pytest.mark.parametrize(
    ("config", "choice"),
    [
        ({"mode": "AUTO"}, "auto"),
        ({"mode": "NONE"}, "none"),
        ({"mode": "ANY"}, "required"),
        ({"mode": "VALIDATED"}, "auto"),
        ({"mode": "ANY", "allowedFunctionNames": ["f"]}, {"type": "function", "name": "f"}),
        (
            {"mode": "ANY", "allowedFunctionNames": ["f", "g"]},
            {
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "f"}, {"type": "function", "name": "g"}],
            },
        ),
        (
            {"mode": "AUTO", "allowedFunctionNames": ["f", "g"]},
            {
                "type": "allowed_tools",
                "mode": "auto",
                "tools": [{"type": "function", "name": "f"}, {"type": "function", "name": "g"}],
            },
        ),
    ],
)
def test_function_calling_modes(config: dict[str, Any], choice: Any) -> None:
    body = {"contents": [user({"text": "x"})], "toolConfig": {"functionCallingConfig": config}}
    assert decode(body, "m").request.tool_choice == choice


@pytest.mark.parametrize(
    ("thinking", "effort"),
    [
        ({"thinkingBudget": 0}, "none"),
        ({"thinkingBudget": -1}, None),
        ({"thinkingBudget": 1024}, "low"),
        ({"thinkingBudget": 10000}, "medium"),
        ({"thinkingBudget": 24576}, "high"),
        ({"thinkingBudget": "65536"}, "xhigh"),
        ({"thinkingLevel": "LOW"}, "low"),
        ({"thinkingLevel": "high"}, "high"),  # with a thinkingBudget too: a 400 (test_strict)
        ({"includeThoughts": True}, None),
    ],
)
def test_thinking_config_sets_the_effort(thinking: dict[str, Any], effort: str | None) -> None:
    body = {"contents": [user({"text": "x"})], "generationConfig": {"thinkingConfig": thinking}}
    req = decode(body, "m").request
    assert req.reasoning == ({"effort": effort} if effort else None)


def test_structured_output_schema_is_converted() -> None:
    body = {
        "contents": [user({"text": "x"})],
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseSchema": {
                "type": "ARRAY",
                "items": {
                    "type": "OBJECT",
                    "properties": {"n": {"type": "INTEGER"}},
                    "propertyOrdering": ["n"],
                },
            },
        },
    }
    assert decode(body, "m").request.text == {
        "format": {
            "type": "json_schema",
            "name": "response",
            "schema": {
                "type": "array",
                "items": {"type": "object", "properties": {"n": {"type": "integer"}}},
            },
            "strict": False,
        }
    }
    raw = {"type": "object", "properties": {"a": {"type": ["string", "null"]}}}
    for key in ("responseJsonSchema", "response_json_schema", "_responseJsonSchema"):
        body["generationConfig"] = {"responseMimeType": "application/json", key: raw}
        req = decode(body, "m").request
        assert req.text == {
            "format": {"type": "json_schema", "name": "response", "schema": raw, "strict": False}
        }
        assert req.ignored == []


def test_sampling_knobs_are_accepted_and_reported() -> None:
    body = {
        "contents": [user({"text": "x"})],
        "generationConfig": {
            "temperature": 0.2,
            "topP": 0.9,
            "topK": 40,
            "maxOutputTokens": 100,
            "stopSequences": ["END"],
            "seed": 7,
            "candidateCount": 1,
        },
        "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
        "cachedContent": "cachedContents/abc",
    }
    req = decode(body, "m").request
    assert req.ignored == [
        "safetySettings",
        "cachedContent",
        "generationConfig.temperature",
        "generationConfig.topP",
        "generationConfig.topK",
        "generationConfig.maxOutputTokens",
        "generationConfig.stopSequences",
        "generationConfig.seed",
        "generationConfig.candidateCount",
    ]
    assert req.extras == {}


def test_count_tokens_accepts_both_shapes() -> None:
    bare = decode_count({"contents": [user({"text": "hello"})]}, "m")
    wrapped = decode_count(
        {"generateContentRequest": {"model": "models/gemini-2.5-pro", "contents": [user({"text": "hello"})]}},
        "m",
    )
    assert bare.input == wrapped.input and wrapped.model == "gemini-2.5-pro"


# -- errors name the field
@pytest.mark.parametrize(
    ("body", "error", "param"),
    [
        ({}, RequestError, "contents"),
        ({"contents": []}, RequestError, "contents"),
        ({"contents": "hi"}, RequestError, "contents"),
        ({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}, RequestError, "contents[0].role"),
        ({"contents": [user({})]}, RequestError, "contents[0].parts[0]"),
        ({"contents": [user({"text": "a", "inlineData": {}})]}, RequestError, "contents[0].parts[0]"),
        ({"contents": [user({"text": 5})]}, RequestError, "contents[0].parts[0].text"),
        (
            {"contents": [user({"inlineData": {"data": "x"}})]},
            RequestError,
            "contents[0].parts[0].inlineData.mimeType",
        ),
        (
            {"contents": [user({"executableCode": {"code": "1"}})]},
            UnsupportedFeature,
            "contents[0].parts[0].executableCode",
        ),
        ({"contents": [user({"videoData": {}})]}, UnsupportedFeature, "contents[0].parts[0].videoData"),
        (
            {"contents": [model({"inlineData": {"mimeType": "image/png", "data": PNG}})]},
            UnsupportedFeature,
            "contents[0].parts[0].inlineData",
        ),
        (
            {"contents": [user({"functionResponse": {"name": "f", "response": {}}})]},
            RequestError,
            "contents[0].parts[0].functionResponse",
        ),
        (
            {"contents": [user({"text": "x"})], "tools": [{"codeExecution": {}}]},
            UnsupportedFeature,
            "tools[0].codeExecution",
        ),
        (
            {"contents": [user({"text": "x"})], "tools": [{"urlContext": {}}]},
            UnsupportedFeature,
            "tools[0].urlContext",
        ),
        (
            {"contents": [user({"text": "x"})], "generationConfig": {"candidateCount": 2}},
            UnsupportedFeature,
            "generationConfig.candidateCount",
        ),
        (
            {"contents": [user({"text": "x"})], "generationConfig": {"responseModalities": ["AUDIO"]}},
            UnsupportedFeature,
            "generationConfig.responseModalities",
        ),
        (
            {"contents": [user({"text": "x"})], "generationConfig": {"responseMimeType": "text/x.enum"}},
            UnsupportedFeature,
            "generationConfig.responseMimeType",
        ),
        (
            {
                "contents": [user({"text": "x"})],
                "generationConfig": {"thinkingConfig": {"thinkingLevel": "huge"}},
            },
            RequestError,
            "generationConfig.thinkingConfig.thinkingLevel",
        ),
        (
            {
                "contents": [user({"text": "x"})],
                "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}},
            },
            RequestError,
            "toolConfig.functionCallingConfig.mode",
        ),
        (
            {
                "contents": [user({"text": "x"})],
                "tools": [{"functionDeclarations": [{"parameters": {"type": "WHAT"}, "name": "f"}]}],
            },
            RequestError,
            "tools[0].functionDeclarations[0].parameters.type",
        ),
    ],
)
def test_bad_requests_name_the_field(body: dict[str, Any], error: type[Exception], param: str) -> None:
    with pytest.raises(error) as info:
        decode(body, "m")
    assert getattr(info.value, "param", None) == param
    assert param in str(info.value)
