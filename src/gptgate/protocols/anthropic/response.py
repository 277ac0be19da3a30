"""A folded canonical response -> one Anthropic ``message`` (the non-stream reply, §4.2, §7.4).

Also the two mappings the stream encoder shares: usage (Anthropic's ``input_tokens`` excludes
cache reads) and the stop-reason vocabulary.
"""

from __future__ import annotations

from typing import Final

from gptgate.canonical.names import NameMap, safe_id
from gptgate.canonical.response import (
    StopReason,
    call_arguments,
    message_text,
    reasoning_summary,
    refusal_text,
    response_stop_reason,
    usage_of,
)
from gptgate.protocols.anthropic.decode import Thinking
from gptgate.protocols.anthropic.signature import sign
from gptgate.types import JSONObject

#: The canonical stop reasons in Anthropic's words (``error`` never reaches a reply).
STOP_REASONS: Final[dict[StopReason, str]] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "error": "end_turn",
}


def anthropic_usage(response: JSONObject | None) -> JSONObject:
    u = usage_of(response)
    return {
        "input_tokens": max(0, u.input_tokens - u.cached_tokens),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": u.cached_tokens,
        "output_tokens": u.output_tokens,
    }


def tool_id(item: JSONObject) -> str:
    """The ``tool_use`` id a client sees: the upstream's call id when already safe."""
    return safe_id(str(item.get("call_id") or item.get("id") or "toolu_gptgate"))


tool_input = call_arguments


def message(
    response: JSONObject, *, message_id: str, model: str, names: NameMap, thinking: Thinking
) -> JSONObject:
    content: list[JSONObject] = []
    for item in response.get("output") or ():
        kind = item.get("type")
        if kind == "reasoning" and thinking != "off":
            content.append(_thinking_block(item, thinking))
        elif kind == "message":
            text = message_text(item) + refusal_text(item)
            if text:
                content.append({"type": "text", "text": text})
        elif kind == "function_call":
            content.append(
                {
                    "type": "tool_use",
                    "id": tool_id(item),
                    "name": names.client(str(item.get("name") or "")),
                    "input": tool_input(item.get("arguments")),
                }
            )
    usage = anthropic_usage(response)
    usage["cache_creation"] = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
    usage["service_tier"] = "standard"
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": STOP_REASONS[response_stop_reason(response)],
        "stop_sequence": None,
        "usage": usage,
    }


def _thinking_block(item: JSONObject, thinking: Thinking) -> JSONObject:
    text = reasoning_summary(item) if thinking == "shown" else ""
    signature = sign(item.get("id"), item.get("encrypted_content"))
    return {"type": "thinking", "thinking": text, "signature": signature}
