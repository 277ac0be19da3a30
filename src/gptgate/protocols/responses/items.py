"""The Responses ``input`` items, checked as openai-python's ``ResponseInputItemParam`` types
them: each item by its ``type``, required fields named when missing, content parts by role.

One call per item from the decoder's single pass over ``input``; nothing is copied. Item types
the SDK does not know pass untouched: Codex CLI sends items newer than any SDK (it sent
``additional_tools`` before the SDK had it), and the upstream is the API that judges them.
Content parts are a closed set per role, as the API has them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from gptgate.protocols import checks as c
from gptgate.protocols import fields as f
from gptgate.protocols import openai_checks as oc
from gptgate.protocols.responses.tools import check_tools
from gptgate.types import JSONObject

ItemCheck = Callable[[JSONObject, str], None]

ROLES: Final = ("user", "assistant", "system", "developer")
_ROLE_SET: Final = frozenset(ROLES)
STATUSES: Final = ("in_progress", "completed", "incomplete")
_ROLE = c.enum(*ROLES)
_STATUS = c.enum(*STATUSES)
_DETAIL = c.enum(*oc.IMAGE_DETAILS)


def _text(part: JSONObject, path: str) -> None:
    if type(part.get("text")) is not str:
        oc.required(part, ("text",), path)
        raise f.wrong_type(path + "text", "a string", part["text"])


def _image(part: JSONObject, path: str) -> None:
    url, file_id = part.get("image_url"), part.get("file_id")
    if url is None and file_id is None:
        raise oc.missing(path + "image_url")
    c.check(part, _IMAGE, path)


_IMAGE: Final[c.Spec] = {"image_url": c.STR, "file_id": c.STR, "detail": _DETAIL}
_file = oc.rule((), {k: c.STR for k in ("file_data", "file_id", "file_url", "filename")})
_output_text = oc.rule(("text",), {"text": c.STR, "annotations": c.list_of(c.OBJ)})
_refusal = oc.rule(("refusal",), {"refusal": c.STR})

#: what a user, system or developer message (and a tool output) may hold
INPUT_PARTS: Final[dict[str, ItemCheck]] = {
    "input_text": _text,
    "input_image": _image,
    "input_file": _file,
}
#: what an assistant message may hold
OUTPUT_PARTS: Final[dict[str, ItemCheck]] = {"output_text": _output_text, "refusal": _refusal}
_INPUT_NAMES: Final = tuple(INPUT_PARTS)
_OUTPUT_NAMES: Final = tuple(OUTPUT_PARTS)


def _parts(content: list[Any], path: str, allowed: dict[str, ItemCheck], names: tuple[str, ...]) -> None:
    """``path`` names the list (no trailing dot)."""
    for j, part in enumerate(content):
        if type(part) is not dict:
            raise f.wrong_type(f"{path}[{j}]", "an object", part)
        kind = part.get("type")
        check = allowed.get(kind) if type(kind) is str else None
        if check is None:
            where = f"{path}[{j}]."
            raise oc.unsupported_type(oc.kind_of(part, where), where + "type", names)
        check(part, f"{path}[{j}].")


def message(item: JSONObject, path: str) -> None:
    role = item.get("role")
    if role not in ROLES:
        if role is None:
            raise oc.missing(path + "role")
        _ROLE(role, path + "role")
    if role == "assistant":
        _string_or_parts(item, "content", path, OUTPUT_PARTS, _OUTPUT_NAMES)
    else:
        _string_or_parts(item, "content", path, INPUT_PARTS, _INPUT_NAMES)
    status = item.get("status")
    if status is not None:
        _STATUS(status, path + "status")


def _string_or_parts(
    item: JSONObject, key: str, path: str, kinds: dict[str, ItemCheck], names: tuple[str, ...]
) -> None:
    """``item[key]``: a string, or an array of content parts of ``kinds`` (required)."""
    value = item.get(key)
    if type(value) is str:
        return
    if type(value) is not list:
        if value is None:
            raise oc.missing(path + key)
        raise f.wrong_type(path + key, "a string or an array of content parts", value)
    _parts(value, path + key, kinds, names)


def _output(key: str) -> ItemCheck:
    """A tool output: ``output`` a string or input content parts."""

    def check(item: JSONObject, path: str) -> None:
        _string_or_parts(item, "output", path, INPUT_PARTS, _INPUT_NAMES)

    return check


def _strings(*keys: str) -> ItemCheck:
    """Required string fields, checked without a spec walk (the hot call items)."""

    def check(item: JSONObject, path: str) -> None:
        for key in keys:
            if type(item.get(key)) is not str:
                oc.required(item, (key,), path)
                raise f.wrong_type(path + key, "a string", item[key])

    return check


_call = _strings("call_id", "name", "arguments")
_custom_call = _strings("call_id", "name", "input")
_call_output = _output("output")
_call_id = _strings("call_id")


def function_call(item: JSONObject, path: str) -> None:
    _call(item, path)
    status = item.get("status")
    if status is not None:
        _STATUS(status, path + "status")


def function_call_output(item: JSONObject, path: str) -> None:
    call_id = item.get("call_id")  # optional since the SDK's ``caller``
    if call_id is not None and type(call_id) is not str:
        raise f.wrong_type(path + "call_id", "a string", call_id)
    _call_output(item, path)


def custom_tool_call_output(item: JSONObject, path: str) -> None:
    _call_id(item, path)
    _call_output(item, path)


_reasoning = oc.rule(("summary",), {"id": c.STR, "encrypted_content": c.STR, "status": _STATUS})


def reasoning(item: JSONObject, path: str) -> None:
    """``id`` is the SDK's required field, but Codex CLI never serialises it (its history is
    replayed with store=false); ``content`` parts are ``reasoning_text`` or ``text``."""
    _reasoning(item, path)
    for key in ("summary", "content"):
        parts = item.get(key)
        if parts is None:
            continue
        if type(parts) is not list:
            raise f.wrong_type(path + key, "an array", parts)
        for j, part in enumerate(parts):
            _text(oc.obj_at(part, f"{path}{key}[{j}]"), f"{path}{key}[{j}].")


def additional_tools(item: JSONObject, path: str) -> None:
    if item.get("role") != "developer":
        oc.required(item, ("role",), path)
        _DEVELOPER(item["role"], path + "role")
    oc.required(item, ("tools",), path)
    check_tools(item["tools"], path + "tools")


_DEVELOPER = c.enum("developer")


def tool_search_output(item: JSONObject, path: str) -> None:
    oc.required(item, ("tools",), path)
    check_tools(item["tools"], path + "tools")


ITEMS: Final[dict[str, ItemCheck]] = {
    "message": message,
    "function_call": function_call,
    "function_call_output": function_call_output,
    "custom_tool_call": _custom_call,
    "custom_tool_call_output": custom_tool_call_output,
    "reasoning": reasoning,
    "additional_tools": additional_tools,
    "tool_search_output": tool_search_output,
    "tool_search_call": oc.rule(("arguments",), {"call_id": c.STR, "execution": c.enum("server", "client")}),
    "compaction": oc.rule(("encrypted_content",), {"encrypted_content": c.STR, "id": c.STR}),
    "compaction_summary": oc.rule(("encrypted_content",), {"encrypted_content": c.STR}),
    "item_reference": oc.rule(("id",), {"id": c.STR}),
    "local_shell_call": oc.rule(
        ("action",),
        {
            "action": c.nested({"command": c.list_of(c.STR), "env": c.map_of(c.STR), "timeout_ms": c.INT}),
            "call_id": c.STR,
            "id": c.STR,
            "status": c.STR,
        },
    ),
    "local_shell_call_output": oc.rule(("output",), {"output": c.STR, "id": c.STR}),
    "web_search_call": oc.rule((), {"action": c.OBJ, "id": c.STR, "status": c.STR}),
    "image_generation_call": oc.rule((), {"id": c.STR, "status": c.STR, "result": c.STR}),
    "mcp_approval_response": oc.rule(
        ("approval_request_id", "approve"), {"approval_request_id": c.STR, "approve": c.BOOL}
    ),
    "mcp_call": oc.rule(
        ("name", "server_label", "arguments"),
        {"name": c.STR, "server_label": c.STR, "arguments": c.STR, "output": c.STR},
    ),
}


def _parts_ok(content: list[Any], assistant: bool) -> bool:
    """Whether content parts are surely fine, without building a path (the usual case)."""
    for part in content:
        if type(part) is not dict:
            return False
        kind = part.get("type")
        if kind == "input_text" or kind == "output_text":
            if type(part.get("text")) is not str or (kind == "output_text") is not assistant:
                return False
            if "annotations" in part and type(part["annotations"]) is not list:
                return False
        elif kind != "input_image" or assistant or not _image_ok(part):
            return False
    return True


def _image_ok(part: JSONObject) -> bool:
    url, file_id, detail = part.get("image_url"), part.get("file_id"), part.get("detail")
    return (
        (type(url) is str or (url is None and type(file_id) is str))
        and (file_id is None or type(file_id) is str)
        and (detail is None or detail in oc.IMAGE_DETAILS)
    )


def _message_ok(item: JSONObject) -> bool:
    role, content = item.get("role"), item.get("content")
    if type(role) is not str or role not in _ROLE_SET or "status" in item:
        return False
    return type(content) is str or (type(content) is list and _parts_ok(content, role == "assistant"))


def _call_ok(item: JSONObject) -> bool:
    return (
        type(item.get("call_id")) is str
        and type(item.get("name")) is str
        and type(item.get("arguments")) is str
        and item.get("status", "completed") in STATUSES
    )


def _custom_call_ok(item: JSONObject) -> bool:
    return (
        type(item.get("call_id")) is str and type(item.get("name")) is str and type(item.get("input")) is str
    )


def _output_ok(item: JSONObject) -> bool:
    output, call_id = item.get("output"), item.get("call_id")
    return (type(call_id) is str or (call_id is None and item.get("type") == "function_call_output")) and (
        type(output) is str or (type(output) is list and _parts_ok(output, False))
    )


#: the items Codex CLI sends, tried first without building a path; the full check runs
#: (and names the field) only when one of these says no
_OK: Final[dict[str, Callable[[JSONObject], bool]]] = {
    "message": _message_ok,
    "function_call": _call_ok,
    "custom_tool_call": _custom_call_ok,
    "function_call_output": _output_ok,
    "custom_tool_call_output": _output_ok,
}


def check_item(item: JSONObject, i: int) -> None:
    """One ``input`` item; ``{"role", "content"}`` without a ``type`` is a message and
    ``{"id"}`` alone an item reference, as the API reads them."""
    kind = item.get("type")
    if kind is None:
        kind = "message" if "role" in item else "item_reference" if "id" in item else None
        if kind is None:
            raise oc.missing(f"input[{i}].type")
    elif type(kind) is not str:
        raise f.wrong_type(f"input[{i}].type", "a string", kind)
    ok = _OK.get(kind)
    if ok is not None and ok(item):
        return
    check = ITEMS.get(kind)
    if check is not None:
        check(item, f"input[{i}].")
