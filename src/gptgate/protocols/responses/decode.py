"""Responses request -> canonical request. Everything not interpreted rides in ``extras``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from gptgate.canonical import items
from gptgate.canonical.request import CanonicalRequest
from gptgate.errors import RequestError
from gptgate.protocols import checks as c
from gptgate.protocols import fields as f
from gptgate.protocols.responses.items import check_item
from gptgate.protocols.responses.params import SPEC
from gptgate.protocols.responses.tools import CHOICE_OPTIONS, check_include, check_tool_choice, check_tools
from gptgate.types import JSONObject

KNOWN: Final = frozenset(
    {
        "model",
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning",
        "text",
        "include",
        "prompt_cache_key",
        "session_id",
        "service_tier",
        "stream",
        "store",
    }
)

#: What Codex CLI sends beside the body (client-apis.md §3.1); it drives upstream cache routing
#: and telemetry, so a Responses upstream gets it as sent.
CLIENT_HEADERS: Final = (
    "session-id",
    "session_id",
    "thread-id",
    "conversation_id",
    "x-client-request-id",
    "x-codex-window-id",
    "x-codex-turn-metadata",
    "x-codex-beta-features",
    "x-codex-routing-hint",
    "x-codex-turn-state",
    "x-openai-subagent",
    "x-openai-internal-codex-responses-lite",
    "originator",
    "version",
    "user-agent",
)


#: one lookup per body key: the documented fields' rules, and which keys are the decoder's own
FIELDS: Final = c.table(SPEC, dict.fromkeys(KNOWN, 1))


def decode(body: JSONObject, headers: Mapping[str, str]) -> CanonicalRequest:
    model = body.get("model")
    if type(model) is not str:
        model = f.req_str(body, "model")
    _, extras = c.walk(body, SPEC, FIELDS)  # the documented fields' types: nothing below re-reads them
    req = CanonicalRequest(model, _input(body), "responses")  # by position: see canonical/request.py
    req.requested_model = model
    get = body.get
    req.stream = get("stream") is True
    req.instructions = get("instructions")
    tools = get("tools")
    if tools is not None:
        if type(tools) is not list or tools:  # [] as Codex sends it without tools: nothing to check
            check_tools(tools, "tools")
        req.tools = list(tools)
    choice = get("tool_choice")
    if choice is not None:
        if type(choice) is not str or choice not in CHOICE_OPTIONS:
            check_tool_choice(choice)
        req.tool_choice = choice
    req.parallel_tool_calls = get("parallel_tool_calls")
    req.reasoning = get("reasoning")
    req.text = get("text")
    include = get("include")
    if include is not None:
        if type(include) is not list or include:
            check_include(include)
        req.include = include
    key = get("prompt_cache_key") or get("session_id")
    if key is not None:
        if type(key) is not str:  # a session_id (prompt_cache_key is typed by SPEC)
            key = f.opt_str(body, "session_id")
        req.prompt_cache_key = f.header_safe(key, "prompt_cache_key")
    req.service_tier = get("service_tier")
    req.extras = extras
    req.forward_headers = {h: v for h in CLIENT_HEADERS if (v := headers.get(h)) is not None}
    return req


def _input(body: JSONObject) -> list[JSONObject]:
    value = body.get("input")
    if value is None:
        raise RequestError(
            "Missing required parameter: 'input'.", param="input", code="missing_required_parameter"
        )
    if isinstance(value, str):
        return [items.message("user", [items.text_part("user", value)])]
    if not isinstance(value, list):
        raise f.wrong_type("input", "a string or an array of input items", value)
    out: list[JSONObject] = []
    for i, item in enumerate(value):
        obj = item if type(item) is dict else f.as_obj(item, f"input[{i}]")
        check_item(obj, i)
        if "type" not in obj and "role" in obj:  # EasyInputMessage: {"role", "content"}
            obj = {"type": "message", **obj}
        content = obj.get("content")
        if obj.get("type") == "message" and isinstance(content, str):
            obj = {**obj, "content": [items.text_part(str(obj.get("role")), content)]}
        out.append(obj)
    return out
