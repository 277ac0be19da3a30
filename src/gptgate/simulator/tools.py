"""Which tool the simulated model calls, and with what arguments.

Tools come from the request's ``tools`` array and from ``additional_tools`` input items (the
0.169 "responses-lite" form), ``namespace`` tools included. Choice, in order: ``tool_choice``
naming a tool; the tool the user's last message names ("run `ls` with the Bash tool", see
``naming.py``), called alone, with the command or path the message quotes in its obvious string
argument; a function ``exec_command``; a custom ``exec`` (Codex code mode, as the captured
fake answered); the first function tool; the first custom tool. Tools of other types
(``web_search``, ``tool_search``, ``image_generation``) are never called.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson

from gptgate.simulator.naming import fill_argument, named_index, quoted_value
from gptgate.simulator.schema import minimal_instance

ToolKind = Literal["function", "custom"]
EXEC_COMMAND_ARGS = {"cmd": "echo hi"}
CODE_MODE_INPUT = 'const r = await tools.exec_command({cmd: "echo hi"});\ntext(r);'
APPLY_PATCH_INPUT = "*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch\n"


@dataclass(frozen=True, slots=True)
class ToolRef:
    kind: ToolKind
    name: str
    parameters: Any = field(default=None, compare=False)
    #: the command or path the user's message quoted for this tool (a named tool only)
    quoted: str | None = field(default=None, compare=False)


def _walk(tools: Any, found: list[ToolRef]) -> None:
    if not isinstance(tools, list):
        return
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        kind, name = tool.get("type"), tool.get("name")
        if kind == "namespace":
            _walk(tool.get("tools"), found)
        elif kind in ("function", "custom") and isinstance(name, str):
            found.append(ToolRef(kind, name, tool.get("parameters")))


def collect_tools(body: dict[str, Any]) -> list[ToolRef]:
    """Every function and custom tool the request offers, in offer order."""
    found: list[ToolRef] = []
    for item in body.get("input") or ():
        if isinstance(item, dict) and item.get("type") == "additional_tools":
            _walk(item.get("tools"), found)
    _walk(body.get("tools"), found)
    return found


def _first(tools: Iterable[ToolRef], kind: ToolKind, name: str | None = None) -> ToolRef | None:
    return next((t for t in tools if t.kind == kind and (name is None or t.name == name)), None)


def _forced(tools: list[ToolRef], tool_choice: Any) -> ToolRef | None:
    if not isinstance(tool_choice, dict):
        return None
    kind, name = tool_choice.get("type"), tool_choice.get("name")
    if kind not in ("function", "custom") or not isinstance(name, str):
        return None
    return _first(tools, kind, name) or ToolRef(kind, name, None)


def _named(tools: list[ToolRef], user_text: str) -> ToolRef | None:
    """The tool the user's message names, carrying what the message quotes for it."""
    index = named_index([t.name for t in tools], user_text) if user_text else None
    if index is None:
        return None
    tool = tools[index]
    return replace(tool, quoted=quoted_value(user_text, tool.name))


def choose_tools(
    tools: list[ToolRef], tool_choice: Any, parallel: bool, user_text: str = ""
) -> list[ToolRef]:
    """The tools to call this turn (empty: answer with text)."""
    if tool_choice == "none":
        return []
    forced = _forced(tools, tool_choice)
    if forced is None and (named := _named(tools, user_text)) is not None:
        return [named]  # what the user asked for, alone
    chosen = (
        forced
        or _first(tools, "function", "exec_command")
        or _first(tools, "custom", "exec")
        or _first(tools, "function")
        or _first(tools, "custom")
    )
    if chosen is None:
        return []
    if parallel and chosen.kind == "function":
        second = next((t for t in tools if t.kind == "function" and t.name != chosen.name), None)
        if second is not None:
            return [chosen, second]
    return [chosen]


def function_arguments(tool: ToolRef) -> str:
    """The JSON-string arguments of a call to ``tool`` (a minimal instance of its schema, with
    the quoted command or path in its obvious string argument)."""
    if tool.name == "exec_command":
        args: Any = EXEC_COMMAND_ARGS if tool.quoted is None else {"cmd": tool.quoted}
        return orjson.dumps(args).decode()
    if not isinstance(tool.parameters, dict):
        return "{}"
    value = minimal_instance(tool.parameters)
    value = value if value is not None else {}
    if tool.quoted is not None:
        value = fill_argument(value, tool.parameters, tool.quoted)
    return orjson.dumps(value).decode()


def custom_input(tool: ToolRef) -> str:
    """The freeform input of a call to custom ``tool`` (what the message quoted, when named)."""
    if tool.quoted is not None:
        return tool.quoted
    if tool.name == "exec":
        return CODE_MODE_INPUT
    if tool.name == "apply_patch":
        return APPLY_PATCH_INPUT
    return "echo hi"
