"""The Responses ``tools``, ``tool_choice`` and ``include``, typed as openai-python's
``ToolParam``, ``ToolChoice`` and ``ResponseIncludable`` type them.

A tool type the SDK does not know passes untouched (Codex CLI sent ``namespace`` and
``tool_search`` before the SDK had them; the upstream judges it); a known one has its required
fields and enums checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from gptgate.protocols import checks as c
from gptgate.protocols import fields as f
from gptgate.protocols import openai_checks as oc
from gptgate.types import JSONObject

ToolCheck = Callable[[JSONObject, str], None]

INCLUDABLE: Final = (
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
)
CHOICE_OPTIONS: Final = ("none", "auto", "required")
_CALLERS = c.list_of(c.enum("direct", "programmatic"))
_FUNCTION: Final[c.Spec] = {
    "name": c.STR,
    "parameters": c.OBJ,
    "strict": c.BOOL,
    "description": c.STR,
    "defer_loading": c.BOOL,
    "allowed_callers": _CALLERS,
}


def function(tool: JSONObject, path: str) -> None:
    if not _function_ok(tool):
        oc.required(tool, ("name",), path)
        c.check(tool, _FUNCTION, path)


def _function_ok(tool: JSONObject) -> bool:
    """The hot tool (Codex CLI sends a dozen): its usual fields read without building a path."""
    params, strict, description = tool.get("parameters"), tool.get("strict"), tool.get("description")
    return (
        type(tool.get("name")) is str
        and (params is None or type(params) is dict)
        and (strict is None or type(strict) is bool)
        and (description is None or type(description) is str)
        and len(tool) <= 5  # type, name, description, parameters, strict: others in full
    )


def _format_ok(fmt: Any) -> bool:
    if fmt is None:
        return True
    if type(fmt) is not dict:
        return False
    kind = fmt.get("type")
    if kind == "text":
        return True
    return kind == "grammar" and fmt.get("syntax") in _SYNTAXES and type(fmt.get("definition")) is str


def _format(value: Any, path: str) -> None:
    """``format``: ``text``, or a ``grammar`` with its ``syntax`` and ``definition``."""
    fmt = oc.obj_at(value, path)
    kind = oc.kind_of(fmt, path + ".")
    _FORMAT_TYPE(kind, path + ".type")
    if kind == "grammar":
        oc.required(fmt, ("definition", "syntax"), path + ".")
        c.check(fmt, {"definition": c.STR, "syntax": c.enum(*_SYNTAXES)}, path + ".")


_SYNTAXES: Final = ("lark", "regex")
_FORMAT_TYPE = c.enum("text", "grammar")


custom = oc.rule(
    ("name",),
    {
        "name": c.STR,
        "description": c.STR,
        "format": _format,
        "defer_loading": c.BOOL,
        "allowed_callers": _CALLERS,
    },
)
#: a namespace holds functions and custom tools only
_MEMBERS: Final[dict[str, ToolCheck]] = {"function": function, "custom": custom}


def namespace(tool: JSONObject, path: str) -> None:
    if _namespace_ok(tool):
        return
    oc.required(tool, ("name", "tools"), path)
    c.check(tool, {"name": c.STR, "description": c.STR}, path)
    members = tool["tools"]
    if type(members) is not list:
        raise f.wrong_type(path + "tools", "an array", members)
    for j, member in enumerate(members):
        where = f"{path}tools[{j}]."
        kind = oc.kind_of(oc.obj_at(member, where[:-1]), where)
        check = _MEMBERS.get(kind)
        if check is None:
            raise oc.unsupported_type(kind, where + "type", tuple(_MEMBERS))
        check(member, where)


def _namespace_ok(tool: JSONObject) -> bool:
    """Whether a namespace is surely fine (no path is built); if not, it is checked in full."""
    members, description = tool.get("tools"), tool.get("description")
    if type(tool.get("name")) is not str or type(members) is not list:
        return False
    if description is not None and type(description) is not str:
        return False
    for member in members:
        if type(member) is not dict:
            return False
        kind = member.get("type")
        if kind == "function":
            if not _function_ok(member):
                return False
        elif kind != "custom" or not _custom_ok(member):
            return False
    return True


def _custom_ok(tool: JSONObject) -> bool:
    fmt, description = tool.get("format"), tool.get("description")
    return (
        type(tool.get("name")) is str
        and (description is None or type(description) is str)
        and _format_ok(fmt)
        and len(tool) <= 4  # type, name, description, format: others in full
    )


_SIZE = c.enum("low", "medium", "high")
_LOCATION = c.nested(
    {"type": c.enum("approximate"), **{k: c.STR for k in ("city", "country", "region", "timezone")}}
)
_web_search = oc.rule(
    (),
    {
        "search_context_size": _SIZE,
        "user_location": _LOCATION,
        "filters": c.nested({"allowed_domains": c.list_of(c.STR)}),
        "external_web_access": c.BOOL,
        "search_content_types": c.list_of(c.enum("text", "image")),
    },
)
_image_generation = oc.rule(
    (),
    {
        "action": c.enum("generate", "edit", "auto"),
        "background": c.enum("transparent", "opaque", "auto"),
        "input_fidelity": c.enum("high", "low"),
        "moderation": c.enum("auto", "low"),
        "output_compression": c.INT,
        "output_format": c.enum("png", "webp", "jpeg", "gif", "svg"),
        "partial_images": c.INT,
        "quality": c.enum("low", "medium", "high", "xhigh", "max", "auto"),
        "size": c.STR,
        "model": c.STR,
    },
)
_mcp = oc.rule(
    ("server_label",),
    {
        "server_label": c.STR,
        "server_url": c.STR,
        "connector_id": c.STR,
        "authorization": c.STR,
        "server_description": c.STR,
        "headers": c.map_of(c.STR),
        "require_approval": c.either(c.enum("always", "never"), c.OBJ, expected="a string or an object"),
        "allowed_tools": c.either(c.list_of(c.STR), c.OBJ, expected="an array of strings or an object"),
    },
)

TOOLS: Final[dict[str, ToolCheck]] = {
    "function": function,
    "custom": custom,
    "namespace": namespace,
    "web_search": _web_search,
    "web_search_2025_08_26": _web_search,
    "web_search_preview": _web_search,
    "web_search_preview_2025_03_11": _web_search,
    "image_generation": _image_generation,
    "mcp": _mcp,
    "file_search": oc.rule(
        ("vector_store_ids",),
        {"vector_store_ids": c.list_of(c.STR), "max_num_results": c.INT, "filters": c.OBJ},
    ),
    "code_interpreter": oc.rule(
        ("container",), {"container": c.either(c.STR, c.OBJ, expected="a string or an object")}
    ),
    "tool_search": oc.rule((), {"execution": c.enum("server", "client"), "description": c.STR}),
    "computer_use_preview": oc.rule(
        ("display_height", "display_width", "environment"),
        {
            "display_height": c.INT,
            "display_width": c.INT,
            "environment": c.enum("windows", "mac", "linux", "ubuntu", "browser"),
        },
    ),
}


def _web_search_ok(tool: JSONObject) -> bool:
    access = tool.get("external_web_access")
    return len(tool) == 1 or (len(tool) == 2 and type(access) is bool)


#: the tools Codex CLI sends, tried first without building a path
_OK: Final[dict[str, Callable[[JSONObject], bool]]] = {
    "web_search": _web_search_ok,
    "function": _function_ok,
    "custom": _custom_ok,
    "namespace": _namespace_ok,
}


def check_tools(tools: Any, path: str) -> None:
    """``path`` names the list (``tools``, ``input[0].tools``)."""
    if type(tools) is not list:
        raise f.wrong_type(path, "an array", tools)
    for i, tool in enumerate(tools):
        if type(tool) is not dict:
            raise f.wrong_type(f"{path}[{i}]", "an object", tool)
        kind = tool.get("type")
        ok = _OK.get(kind) if type(kind) is str else None
        if ok is not None and ok(tool):
            continue
        check = TOOLS.get(kind) if type(kind) is str else None
        if check is not None:
            check(tool, f"{path}[{i}].")
        elif type(kind) is not str:
            oc.kind_of(tool, f"{path}[{i}].")


_CHOICE_OPTION = c.enum(*CHOICE_OPTIONS)
_CHOICES: Final[dict[str, ToolCheck]] = {
    "function": oc.rule(("name",), {"name": c.STR}),
    "custom": oc.rule(("name",), {"name": c.STR}),
    "mcp": oc.rule(("server_label",), {"server_label": c.STR, "name": c.STR}),
    "allowed_tools": oc.rule(
        ("mode", "tools"), {"mode": c.enum("auto", "required"), "tools": c.list_of(c.OBJ)}
    ),
}


def check_tool_choice(choice: Any) -> None:
    """A string option, or an object by its ``type`` (hosted tool types need nothing more)."""
    if type(choice) is str:
        if choice not in CHOICE_OPTIONS:
            _CHOICE_OPTION(choice, "tool_choice")
        return
    if type(choice) is not dict:
        raise f.wrong_type("tool_choice", "a string or an object", choice)
    check = _CHOICES.get(oc.kind_of(choice, "tool_choice."))
    if check is not None:
        check(choice, "tool_choice.")


_INCLUDE = c.enum(*INCLUDABLE)


def check_include(include: Any) -> None:
    if type(include) is not list:
        raise f.wrong_type("include", "an array", include)
    for i, value in enumerate(include):
        if value not in INCLUDABLE:
            _INCLUDE(value, f"include[{i}]")
