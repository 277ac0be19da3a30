"""The Responses decoder as it was before the single-walk rewrite (issue 12), kept as the
reference the door's decoder is compared with: same request, or the same error, for any body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from gptgate.canonical import items
from gptgate.canonical.request import CanonicalRequest
from gptgate.errors import RequestError
from gptgate.protocols import fields as f
from gptgate.protocols.responses.items import check_item
from gptgate.protocols.responses.params import SPEC
from gptgate.protocols.responses.tools import check_include, check_tool_choice, check_tools
from gptgate.types import JSONObject
from tests.protocols.reference_check import ref_check as _check

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


def decode(body: JSONObject, headers: Mapping[str, str]) -> CanonicalRequest:
    model = f.req_str(body, "model")
    _check(body, SPEC)
    req = CanonicalRequest(model=model, requested_model=model, input=_input(body), origin="responses")
    req.stream = bool(f.opt_bool(body, "stream"))
    req.instructions = f.opt_str(body, "instructions")
    tools = body.get("tools")
    if tools is not None:
        check_tools(tools, "tools")
        req.tools = list(tools)
    choice = body.get("tool_choice")
    if choice is not None:
        check_tool_choice(choice)
    req.tool_choice = choice
    req.parallel_tool_calls = f.opt_bool(body, "parallel_tool_calls")
    req.reasoning = f.opt_obj(body, "reasoning")
    req.text = f.opt_obj(body, "text")
    include = body.get("include")
    if include is not None:
        check_include(include)
    req.include = include
    req.prompt_cache_key = f.header_safe(
        f.opt_str(body, "prompt_cache_key") or f.opt_str(body, "session_id"), "prompt_cache_key"
    )
    req.service_tier = f.opt_str(body, "service_tier")
    req.extras = {k: v for k, v in body.items() if k not in KNOWN}
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
        obj = f.as_obj(item, f"input[{i}]")
        check_item(obj, i)
        if "type" not in obj and "role" in obj:  # EasyInputMessage: {"role", "content"}
            obj = {"type": "message", **obj}
        content = obj.get("content")
        if obj.get("type") == "message" and isinstance(content, str):
            obj = {**obj, "content": [items.text_part(str(obj.get("role")), content)]}
        out.append(obj)
    return out
