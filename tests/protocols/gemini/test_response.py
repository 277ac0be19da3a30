"""The non-stream GenerateContentResponse, and the thoughtSignature format."""

from __future__ import annotations

import base64
from typing import Any

from google.genai import types

from gptgate.canonical.names import NameMap
from gptgate.protocols.gemini import signature
from gptgate.protocols.gemini.response import generate_content_response


def build(output: list[dict[str, Any]], thoughts: bool = False, **response: Any) -> dict[str, Any]:
    names = NameMap()
    names.upstream("mcp__" + "z" * 80)
    body = {"status": "completed", "output": output, **response}
    return generate_content_response(body, response_id="r", model="m", include_thoughts=thoughts, names=names)


def reasoning(enc: str, summary: str = "") -> dict[str, Any]:
    return {
        "type": "reasoning",
        "encrypted_content": enc,
        "summary": [{"type": "summary_text", "text": summary}],
    }


def test_parts_in_output_order_with_the_signature_on_the_next_part() -> None:
    message = {
        "type": "message",
        "content": [{"type": "output_text", "text": "Hi"}, {"type": "refusal", "refusal": "!"}],
    }
    call = {
        "type": "function_call",
        "call_id": "c1",
        "name": NameMap().upstream("mcp__" + "z" * 80),
        "arguments": '{"a":1}',
    }
    reply = build([reasoning("gAAAA1", "think"), message, reasoning("gAAAA2"), call], thoughts=True)
    assert reply["candidates"][0]["content"]["parts"] == [
        {"text": "think", "thought": True},
        {"text": "Hi!", "thoughtSignature": signature.encode("gAAAA1")},
        {
            "functionCall": {"id": "c1", "name": "mcp__" + "z" * 80, "args": {"a": 1}},
            "thoughtSignature": signature.encode("gAAAA2"),
        },
    ]
    assert reply["candidates"][0]["finishReason"] == "STOP"
    assert reply["usageMetadata"] == {
        "promptTokenCount": 0,
        "candidatesTokenCount": 0,
        "totalTokenCount": 0,
        "cachedContentTokenCount": 0,
        "thoughtsTokenCount": 0,
    }


def test_reasoning_only_and_empty_replies_still_have_a_part() -> None:
    assert build([reasoning("gAAAA1", "t")])["candidates"][0]["content"]["parts"] == [
        {"text": "", "thoughtSignature": signature.encode("gAAAA1")}
    ]
    assert build([])["candidates"][0]["content"]["parts"] == [{"text": ""}]
    incomplete = build([], status="incomplete", incomplete_details={"reason": "max_output_tokens"})
    assert incomplete["candidates"][0]["finishReason"] == "MAX_TOKENS"


def test_signature_format_round_trips_through_the_sdk_types() -> None:
    blob = "gAAAAABpZ2V4YW1wbGUt+/placeholder=="
    sig = signature.encode(blob)
    assert sig.startswith(signature.MARK) and base64.urlsafe_b64decode(sig).startswith(b"gptgate:rs:v01:")
    part = types.Part.model_validate({"text": "x", "thoughtSignature": sig})
    resent = part.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert signature.decode(resent.get("thoughtSignature") or resent["thought_signature"]) == blob
    standard = base64.b64encode(base64.urlsafe_b64decode(sig)).decode()  # another client's alphabet
    assert signature.decode(standard) == blob
    unpadded = sig.rstrip("=")
    assert signature.decode(unpadded) == blob


def test_foreign_or_broken_signatures_are_not_ours() -> None:
    assert signature.decode(base64.b64encode(b"a Gemini signature").decode()) is None
    assert signature.decode(signature.MARK) is None  # magic without content
    assert signature.decode(signature.MARK + "%%%") is None
    assert signature.decode(base64.b64encode(b"gptgate:rs:v01:\xff\xfe").decode()) is None
