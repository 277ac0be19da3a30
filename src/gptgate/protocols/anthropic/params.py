"""The documented Messages parameters, typed as anthropic-python's ``MessageCreateParams``
types them (ranges and patterns as the API enforces them): the scalars, the messages and their
blocks (:mod:`blocks`), tools, tool choice, thinking and output config.

:func:`check_request` walks the body once, in place; unknown fields pass untouched.
"""

from __future__ import annotations

from typing import Any, Final

from gptgate.protocols import checks as c
from gptgate.protocols.anthropic.blocks import CACHE_CONTROL, SYSTEM, nonempty_messages
from gptgate.protocols.anthropic.rules import (
    by_type,
    invalid,
    matching,
    missing,
    one_of,
    shape,
    str_or_obj,
    strings,
    variant,
)
from gptgate.types import JSONObject

#: The custom tool name as the API enforces it.
TOOL_NAME: Final = r"^[a-zA-Z0-9_-]{1,128}$"
MIN_THINKING_BUDGET: Final = 1024

_CALLERS: Final = c.list_of(
    one_of("direct", "code_execution_20250825", "code_execution_20260120", "code_execution_20260521")
)
_CUSTOM_TOOL: Final = variant(
    {
        "name": matching(TOOL_NAME),
        "input_schema": shape({"type": one_of("object")}, {"properties": c.OBJ, "required": strings}),
    },
    {
        "description": c.STR,
        "cache_control": CACHE_CONTROL,
        "defer_loading": c.BOOL,
        "eager_input_streaming": c.BOOL,
        "strict": c.BOOL,
        "input_examples": c.list_of(c.OBJ),
        "allowed_callers": _CALLERS,
    },
)
_WEB_SEARCH: Final[c.Spec] = {
    "allowed_callers": _CALLERS,
    "allowed_domains": strings,
    "blocked_domains": strings,
    "cache_control": CACHE_CONTROL,
    "defer_loading": c.BOOL,
    "max_uses": c.at_least(1),
    "strict": c.BOOL,
    "user_location": shape(
        {"type": one_of("approximate")},
        {"city": c.STR, "country": c.STR, "region": c.STR, "timezone": c.STR},
    ),
}
_WEB_SEARCH_NAME: Final[c.Spec] = {"name": one_of("web_search")}
#: Custom tools and the web search versions are checked; other Anthropic-defined tools are
#: left to the decoder, which refuses them as unservable.
TOOL: Final = by_type(
    {
        "custom": _CUSTOM_TOOL,
        "web_search_20250305": variant(_WEB_SEARCH_NAME, _WEB_SEARCH),
        "web_search_20260209": variant(_WEB_SEARCH_NAME, _WEB_SEARCH),
        "web_search_20260318": variant(
            _WEB_SEARCH_NAME, {**_WEB_SEARCH, "response_inclusion": one_of("full", "excluded")}
        ),
    },
    default="custom",
    open_ended=True,
)
_PARALLEL: Final[c.Spec] = {"disable_parallel_tool_use": c.BOOL}
TOOL_CHOICE: Final = by_type(
    {
        "auto": variant(optional=_PARALLEL),
        "any": variant(optional=_PARALLEL),
        "tool": variant({"name": c.STR}, _PARALLEL),
        "none": variant(),
    }
)
_DISPLAY: Final[c.Spec] = {"display": one_of("summarized", "omitted")}
THINKING: Final = by_type(
    {
        "enabled": variant({"budget_tokens": c.at_least(MIN_THINKING_BUDGET)}, _DISPLAY),
        "adaptive": variant(optional=_DISPLAY),
        "disabled": variant(),
        "between_tools": variant(),
    }
)
JSON_FORMAT: Final = by_type({"json_schema": variant({"schema": c.OBJ})})

SPEC: Final[c.Spec] = {
    "messages": nonempty_messages,
    "system": SYSTEM,
    "temperature": c.ranged(0, 1),
    "top_p": c.ranged(0, 1),
    "top_k": c.at_least(0),
    "stop_sequences": strings,
    "stream": c.BOOL,
    "metadata": c.nested({"user_id": c.STR}),
    "service_tier": one_of("auto", "standard_only"),
    "inference_geo": c.STR,
    "tools": c.list_of(TOOL),
    "tool_choice": TOOL_CHOICE,
    "thinking": THINKING,
    "output_config": shape(
        optional={"effort": one_of("low", "medium", "high", "xhigh", "max"), "format": JSON_FORMAT}
    ),
    "output_format": JSON_FORMAT,
    "cache_control": CACHE_CONTROL,
    "container": str_or_obj(shape(optional={"id": c.STR, "skills": c.list_of(c.OBJ)})),
    "diagnostics": shape(optional={"previous_message_id": c.STR}),
    "speed": one_of("standard", "fast"),
    "user_profile_id": c.STR,
    "workspace_id": c.STR,
}


def check_request(body: JSONObject, max_tokens: int | None) -> None:
    """Every documented field of a Messages (or ``count_tokens``: no ``max_tokens``) body."""
    if body.get("messages") is None:
        raise missing("messages")
    c.check(body, SPEC)
    thinking: Any = body.get("thinking")
    if max_tokens is None or thinking is None or thinking.get("type") != "enabled":
        return
    budget: int = thinking["budget_tokens"]  # checked above
    if budget >= max_tokens:
        raise invalid(
            "thinking.budget_tokens",
            f"max_tokens ({max_tokens}) must be greater than thinking.budget_tokens ({budget})",
        )
