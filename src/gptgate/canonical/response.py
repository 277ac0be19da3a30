"""Shared mappings from the canonical response: usage, stop reasons, text and tool calls.

Every front door reads the same folded response through these helpers, so a rule such as
"cached tokens are part of the prompt" or "a response with tool calls stopped for tools" is
written once.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import orjson

from gptgate.types import JSONObject

StopReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]
TOOL_CALL_TYPES = frozenset({"function_call", "custom_tool_call"})


class Usage(NamedTuple):
    """Read once per answer: a named tuple (a frozen dataclass sets each field through
    ``object.__setattr__``: twice the cost of making one)."""

    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def usage_of(response: JSONObject | None) -> Usage:
    """Read a Responses ``usage`` object; every part may be missing or null."""
    u = (response or {}).get("usage") or {}
    return Usage(
        int(u.get("input_tokens") or 0),
        int((u.get("input_tokens_details") or {}).get("cached_tokens") or 0),
        int(u.get("output_tokens") or 0),
        int((u.get("output_tokens_details") or {}).get("reasoning_tokens") or 0),
    )


def stop_reason(status: str | None, incomplete_reason: str | None, has_tool_calls: bool) -> StopReason:
    """The one stop-reason rule: tools win, then incomplete reasons, then a normal stop."""
    if status == "failed":
        return "error"
    if has_tool_calls:
        return "tool_calls"
    if status == "incomplete":
        return "content_filter" if incomplete_reason == "content_filter" else "length"
    return "stop"


def response_stop_reason(response: JSONObject) -> StopReason:
    details = response.get("incomplete_details") or {}
    has_tools = any(item.get("type") in TOOL_CALL_TYPES for item in response.get("output") or ())
    return stop_reason(response.get("status"), details.get("reason"), has_tools)


def message_text(item: JSONObject) -> str:
    """Concatenated ``output_text`` of a message item."""
    return "".join(p.get("text") or "" for p in item.get("content") or () if p.get("type") == "output_text")


def refusal_text(item: JSONObject) -> str:
    return "".join(p.get("refusal") or "" for p in item.get("content") or () if p.get("type") == "refusal")


def reasoning_summary(item: JSONObject, separator: str = "\n\n") -> str:
    return separator.join(s.get("text") or "" for s in item.get("summary") or ())


def call_arguments(arguments: str | None) -> JSONObject:
    """A call's arguments text as an object (Anthropic ``input``, Gemini ``args``): empty,
    invalid or non-object JSON becomes ``{}``, which both clients accept."""
    if not arguments:
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
