"""Anthropic Messages request -> canonical request (client-apis.md §4.1, §4.6, §7.3).

The messages themselves are in :mod:`content`; this module reads the rest of the body: model,
tools, tool choice, thinking, the Claude Code session, and what the upstream cannot honour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson

from gptgate.canonical import items
from gptgate.canonical.effort import effort_for_budget, effort_for_level
from gptgate.canonical.hosted import IMAGE_TOOL
from gptgate.canonical.names import NameMap
from gptgate.canonical.request import CanonicalRequest
from gptgate.errors import RequestError, UnsupportedFeature
from gptgate.protocols import fields as f
from gptgate.protocols.anthropic.content import Turns, system_message
from gptgate.protocols.anthropic.params import check_request
from gptgate.types import JSONObject

#: Accepted, but the Codex upstream has no equivalent: reported in ``x-gptgate-ignored``.
IGNORED: Final = (
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "metadata",
    "context_management",
    "cache_control",
    "service_tier",
    "container",
    "inference_geo",
    "speed",
    "diagnostics",
    "user_profile_id",
    "workspace_id",
)
KNOWN: Final = frozenset(
    {
        *IGNORED,
        "model",
        "messages",
        "system",
        "stream",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "output_format",
        "mcp_servers",
    }
)
SESSION_HEADER: Final = "x-claude-code-session-id"
ADAPTIVE_DEFAULT: Final = "high"
#: Client tools whose name the upstream knows under another type (server-side tools).
WEB_SEARCH: Final = "web_search_"
#: Anthropic-defined tool types this gateway cannot run or describe to the upstream.
SERVER_TOOL_PREFIXES: Final = (
    "bash_",
    "text_editor_",
    "computer_",
    "code_execution_",
    "web_fetch_",
    "memory_",
    "tool_search_",
    "mcp_toolset",
)

Thinking = Literal["shown", "omitted", "off"]


@dataclass(slots=True)
class Decoded:
    """The canonical request plus what the answer's encoder needs from the client's request."""

    req: CanonicalRequest
    names: NameMap
    #: ``shown``: thinking blocks with summaries; ``omitted``: empty thinking + signature;
    #: ``off``: the client did not ask for thinking, so no thinking blocks at all.
    thinking: Thinking


def decode(body: JSONObject, headers: Mapping[str, str], *, count_only: bool = False) -> Decoded:
    """``count_only``: a ``count_tokens`` body (no ``max_tokens``)."""
    model = f.req_str(body, "model")
    check_request(body, None if count_only else _max_tokens(body))
    raw_messages: list[Any] = body["messages"]  # a list: checked above
    names = NameMap()
    turns = Turns(names)
    system = system_message(body)
    messages = turns.add(raw_messages)
    req = CanonicalRequest(
        model=model,
        requested_model=model,
        input=[system, *messages] if system is not None else messages,
        origin="anthropic",
    )
    req.stream = bool(f.opt_bool(body, "stream"))
    ignored = [k for k in IGNORED if body.get(k) is not None]
    req.tools, web_names = _tools(body, names, ignored)
    req.tool_choice, parallel = _tool_choice(body, names, web_names)
    if req.tools:  # Anthropic allows parallel calls unless told otherwise; say so upstream
        req.parallel_tool_calls = parallel is not False
    effort, thinking = _thinking(body)
    if effort:
        req.reasoning = {"effort": effort}
    req.text = _text_format(body)
    req.prompt_cache_key = f.header_safe(session_key(body, headers), "metadata.user_id")
    _reject_unservable(body)
    req.ignored = ignored + sorted(turns.skipped)
    req.extras = {k: v for k, v in body.items() if k not in KNOWN}
    return Decoded(req, names, thinking)


def _max_tokens(body: JSONObject) -> int:
    value = f.opt_int(body, "max_tokens")
    if value is None:
        raise RequestError(
            "Missing required parameter: 'max_tokens'.", param="max_tokens", code="missing_required_parameter"
        )
    if value < 1:
        raise RequestError("Invalid value for 'max_tokens': must be at least 1.", param="max_tokens")
    return value


def _reject_unservable(body: JSONObject) -> None:
    if f.opt_list(body, "mcp_servers"):
        raise UnsupportedFeature(
            "'mcp_servers' (the MCP connector) is not supported by this gateway.", param="mcp_servers"
        )


def session_key(body: JSONObject, headers: Mapping[str, str]) -> str | None:
    """Claude Code's session: its header, else ``session_id`` in the JSON of ``metadata.user_id``."""
    header = headers.get(SESSION_HEADER)
    if header:
        return header
    metadata = body.get("metadata")
    user_id = metadata.get("user_id") if isinstance(metadata, dict) else None
    if not isinstance(user_id, str) or not user_id.startswith("{"):
        return None
    try:
        data = orjson.loads(user_id)
    except orjson.JSONDecodeError:
        return None
    session = data.get("session_id") if isinstance(data, dict) else None
    return session if isinstance(session, str) and session else None


# -- tools -------------------------------------------------------------------------------------
def _tools(body: JSONObject, names: NameMap, ignored: list[str]) -> tuple[list[JSONObject], set[str]]:
    out: list[JSONObject] = []
    web_names: set[str] = set()
    for i, value in enumerate(f.opt_list(body, "tools") or []):
        path = f"tools[{i}]"
        tool = f.as_obj(value, path)
        kind = f.opt_str(tool, "type", path + ".") or "custom"
        if kind == "custom":
            out.append(_function_tool(tool, path + ".", names))
        elif kind == IMAGE_TOOL:  # the upstream's image tool, Responses-shaped (an extension)
            out.append({k: v for k, v in tool.items() if k != "name"})
        elif kind.startswith(WEB_SEARCH):
            web_names.add(f.opt_str(tool, "name", path + ".") or "web_search")
            out.append(_web_search(tool, path + ".", ignored))
        elif kind.startswith(SERVER_TOOL_PREFIXES):
            raise UnsupportedFeature(
                f"Invalid value for '{path}.type': the Anthropic-defined tool '{kind}' "
                f"({tool.get('name')}) is not supported by this gateway; declare it as a custom tool "
                "with an input_schema instead.",
                param=path + ".type",
            )
        else:
            raise RequestError(f"Invalid value for '{path}.type': '{kind}'.", param=path + ".type")
    return out, web_names


def _function_tool(tool: JSONObject, path: str, names: NameMap) -> JSONObject:
    name = names.upstream(f.req_str(tool, "name", path))
    schema = f.opt_obj(tool, "input_schema", path)
    if schema is None:
        raise RequestError(f"Missing required parameter: '{path}input_schema'.", param=path + "input_schema")
    return items.function_tool(name, f.opt_str(tool, "description", path), parameters(schema), False)


def parameters(schema: JSONObject) -> JSONObject:
    """An object schema the upstream accepts: no ``$schema``, always ``type: object``."""
    out = {k: v for k, v in schema.items() if k != "$schema"}
    out["type"] = "object"
    if not isinstance(out.get("properties"), dict):
        out["properties"] = {}
    return out


def _web_search(tool: JSONObject, path: str, ignored: list[str]) -> JSONObject:
    out: JSONObject = {"type": "web_search"}
    allowed = f.opt_list(tool, "allowed_domains", path)
    if allowed:
        out["filters"] = {"allowed_domains": allowed}
    location = f.opt_obj(tool, "user_location", path)
    if location:
        out["user_location"] = {"type": "approximate", **location}
    ignored.extend(path + k for k in ("blocked_domains", "max_uses") if tool.get(k) is not None)
    return out


def _tool_choice(
    body: JSONObject, names: NameMap, web_names: set[str]
) -> tuple[str | JSONObject | None, bool | None]:
    choice = f.opt_obj(body, "tool_choice")
    if choice is None:
        return None, None
    kind = f.req_str(choice, "type", "tool_choice.")
    parallel = False if f.opt_bool(choice, "disable_parallel_tool_use", "tool_choice.") else None
    if kind == "auto":
        return "auto", parallel
    if kind == "any":
        return "required", parallel
    if kind == "none":
        return "none", parallel
    if kind == "tool":
        name = f.req_str(choice, "name", "tool_choice.")
        if name in web_names:
            return {"type": "web_search"}, parallel
        return {"type": "function", "name": names.upstream(name)}, parallel
    raise RequestError(
        f"Invalid value for 'tool_choice.type': '{kind}' (expected auto, any, tool or none).",
        param="tool_choice.type",
    )


# -- thinking and output -----------------------------------------------------------------------
def _thinking(body: JSONObject) -> tuple[str | None, Thinking]:
    """(effort, thinking display) from ``thinking`` and ``output_config.effort``."""
    config = f.opt_obj(body, "output_config") or {}
    level = _level(config)
    thinking = f.opt_obj(body, "thinking")
    if thinking is None:
        return level, "off"
    kind = f.req_str(thinking, "type", "thinking.")
    display: Thinking = "omitted" if thinking.get("display") == "omitted" else "shown"
    if kind == "enabled":
        budget = f.opt_int(thinking, "budget_tokens", "thinking.")
        if budget is None:
            raise RequestError(
                "Missing required parameter: 'thinking.budget_tokens'.", param="thinking.budget_tokens"
            )
        return effort_for_budget(budget) or level, display
    if kind in ("adaptive", "between_tools"):  # the model decides when (and how much) to think
        return level or ADAPTIVE_DEFAULT, display
    if kind == "disabled":
        return "none", "off"
    raise RequestError(
        f"Invalid value for 'thinking.type': '{kind}' (expected enabled, adaptive, between_tools or disabled).",
        param="thinking.type",
    )


def _level(config: JSONObject) -> str | None:
    level = f.opt_str(config, "effort", "output_config.")
    if level is None:
        return None
    effort = effort_for_level(level)
    if effort is None:
        raise RequestError(
            f"Invalid value for 'output_config.effort': '{level}'.", param="output_config.effort"
        )
    return effort


def _text_format(body: JSONObject) -> JSONObject | None:
    """Structured output (``output_config.format``, or the older ``output_format``)."""
    config = f.opt_obj(body, "output_config") or {}
    path = "output_config.format."
    fmt = f.opt_obj(config, "format", "output_config.")
    if fmt is None:
        fmt, path = f.opt_obj(body, "output_format"), "output_format."
    if fmt is None:
        return None
    kind = f.req_str(fmt, "type", path)
    if kind != "json_schema":
        raise RequestError(f"Invalid value for '{path}type': '{kind}'.", param=path + "type")
    schema = f.opt_obj(fmt, "schema", path) or {}
    return {"format": {"type": "json_schema", "name": "output", "schema": schema, "strict": False}}
