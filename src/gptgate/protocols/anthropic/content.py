"""Anthropic ``messages`` and ``system`` -> canonical input items (client-apis.md §4.1, §7.3).

Blocks keep their order: text, images and documents gather into one pending message, and each
``tool_use``, ``tool_result`` or signed ``thinking`` block flushes it, so an assistant turn
``[thinking, text, tool_use]`` becomes ``reasoning, message, function_call`` and a user turn
with several tool results becomes one ``function_call_output`` per result, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import orjson

from gptgate.canonical import items
from gptgate.canonical.names import NameMap, safe_id
from gptgate.errors import RequestError, UnsupportedFeature
from gptgate.protocols import fields as f
from gptgate.protocols.anthropic import blocks
from gptgate.protocols.anthropic.signature import unsign
from gptgate.types import JSONObject

#: Claude Code's first system block; attribution for Anthropic's billing, not a prompt.
ATTRIBUTION: Final = "x-anthropic-billing-header:"
ERROR_PREFIX: Final = "Error: "
#: Blocks that only Anthropic's servers produce or read: accepted in history, not replayable.
SERVER_BLOCKS: Final = frozenset({"server_tool_use", *blocks.SERVER_BLOCKS})


class Turns:
    """The canonical items of one request's messages, built block by block."""

    def __init__(self, names: NameMap) -> None:
        self.names = names
        self.out: list[JSONObject] = []
        #: Blocks accepted but not sent upstream (reported in ``x-gptgate-ignored``).
        self.skipped: set[str] = set()
        self._role = "user"
        self._parts: list[JSONObject] = []

    def flush(self) -> None:
        if self._parts:
            self.out.append(items.message(self._role, self._parts))
            self._parts = []

    def add(self, values: list[Any]) -> list[JSONObject]:
        for i, value in enumerate(values):
            msg = f.as_obj(value, f"messages[{i}]")
            path = f"messages[{i}]."
            role = f.req_str(msg, "role", path)
            if role == "system":
                self._system_reminder(msg, path)
            elif role in ("user", "assistant"):
                self._turn(role, msg, path)
            else:
                raise RequestError(
                    f"Invalid value for 'messages[{i}].role': '{role}' (expected user or assistant).",
                    param=path + "role",
                )
        self.flush()
        return self.out

    def _system_reminder(self, msg: JSONObject, path: str) -> None:
        """Claude Code's mid-conversation system entries: a user message in reminder tags."""
        text = "\n\n".join(_texts(msg.get("content"), path + "content"))
        self.flush()
        reminder = f"<system-reminder>\n{text}\n</system-reminder>"
        self.out.append(items.message("user", [items.text_part("user", reminder)]))

    def _turn(self, role: str, msg: JSONObject, path: str) -> None:
        if role != self._role:
            self.flush()
            self._role = role
        content = msg.get("content")
        if isinstance(content, str):
            self._parts.append(items.text_part(role, content))
            return
        if not isinstance(content, list):
            raise f.wrong_type(path + "content", "a string or an array of content blocks", content)
        for j, value in enumerate(content):
            where = f"{path}content[{j}]"
            block = f.as_obj(value, where)
            kind = f.req_str(block, "type", where + ".")
            handler = _BLOCKS.get(kind)
            if handler is not None:
                handler(self, block, where + ".")
            elif kind in SERVER_BLOCKS:
                self.skipped.add("messages[].content[]." + kind)
            else:
                raise RequestError(
                    f"Invalid value for '{where}.type': '{kind}' is not a supported content block.",
                    param=where + ".type",
                )

    # -- one method per block type
    def _text(self, block: JSONObject, path: str) -> None:
        self._parts.append(items.text_part(self._role, f.req_str(block, "text", path)))

    def _image(self, block: JSONObject, path: str) -> None:
        self._user_only("image", path)
        self._parts.append(image(block, path))

    def _document(self, block: JSONObject, path: str) -> None:
        self._user_only("document", path)
        self._parts.extend(document(block, path))

    def _tool_use(self, block: JSONObject, path: str) -> None:
        call_id = safe_id(f.req_str(block, "id", path))
        name = self.names.upstream(f.req_str(block, "name", path))
        value = block.get("input")
        if value is not None and not isinstance(value, dict):
            raise f.wrong_type(path + "input", "an object", value)
        self.flush()
        self.out.append(items.function_call(call_id, name, orjson.dumps(value or {}).decode()))

    def _tool_result(self, block: JSONObject, path: str) -> None:
        call_id = safe_id(f.req_str(block, "tool_use_id", path))
        output = tool_output(block.get("content"), path + "content")
        if f.opt_bool(block, "is_error", path):
            output = _as_error(output)
        self.flush()
        self.out.append(items.function_call_output(call_id, output))

    def _thinking(self, block: JSONObject, path: str) -> None:
        """Only a signature we issued becomes a reasoning item; any other is dropped."""
        ours = unsign(block.get("signature"))
        if ours is None:
            self.skipped.add("messages[].content[].thinking")
            return
        item_id, encrypted = ours
        text = f.opt_str(block, "thinking", path)
        self.flush()
        self.out.append(items.reasoning(encrypted, [text] if text else None, item_id))

    def _redacted_thinking(self, block: JSONObject, path: str) -> None:
        self.skipped.add("messages[].content[].redacted_thinking")

    def _user_only(self, kind: str, path: str) -> None:
        if self._role != "user":
            raise RequestError(
                f"Invalid value for '{path}type': '{kind}' blocks are only allowed in user turns.",
                param=path + "type",
            )


_BLOCKS: dict[str, Callable[[Turns, JSONObject, str], None]] = {
    "text": Turns._text,
    "image": Turns._image,
    "document": Turns._document,
    "tool_use": Turns._tool_use,
    "tool_result": Turns._tool_result,
    "thinking": Turns._thinking,
    "redacted_thinking": Turns._redacted_thinking,
}


def _texts(content: Any, path: str) -> list[str]:
    """The texts of a string or an array of text blocks (``system``, system entries)."""
    if isinstance(content, str):
        return [content]
    if content is None:
        return []
    if not isinstance(content, list):
        raise f.wrong_type(path, "a string or an array of text blocks", content)
    out: list[str] = []
    for j, value in enumerate(content):
        block = f.as_obj(value, f"{path}[{j}]")
        kind = f.req_str(block, "type", f"{path}[{j}].")
        if kind != "text":
            raise RequestError(
                f"Invalid value for '{path}[{j}].type': expected 'text', got '{kind}'.",
                param=f"{path}[{j}].type",
            )
        out.append(f.req_str(block, "text", f"{path}[{j}]."))
    return out


def system_message(body: JSONObject) -> JSONObject | None:
    """``system`` as one developer message, one text part per block, attribution skipped."""
    parts: list[JSONObject] = []
    for text in _texts(body.get("system"), "system"):
        if text.startswith(ATTRIBUTION):
            text = text.partition("\n")[2]
        if text:
            parts.append(items.text_part("developer", text))
    return items.message("developer", parts) if parts else None


def image(block: JSONObject, path: str) -> JSONObject:
    source = f.as_obj(block.get("source"), path + "source")
    where = path + "source."
    kind = f.req_str(source, "type", where)
    if kind == "base64":
        media = f.req_str(source, "media_type", where)
        if not media.startswith("image/"):
            raise RequestError(
                f"Invalid value for '{where}media_type': '{media}' is not an image type.",
                param=where + "media_type",
            )
        return items.image_part(f"data:{media};base64,{f.req_str(source, 'data', where)}")
    if kind == "url":
        return items.image_part(f.req_str(source, "url", where))
    return _unsupported_source(kind, where)


def document(block: JSONObject, path: str) -> list[JSONObject]:
    source = f.as_obj(block.get("source"), path + "source")
    where = path + "source."
    kind = f.req_str(source, "type", where)
    title = f.opt_str(block, "title", path)
    if kind == "base64":
        media = f.opt_str(source, "media_type", where) or "application/pdf"
        data = f"data:{media};base64,{f.req_str(source, 'data', where)}"
        return [items.file_part(file_data=data, filename=title or "document.pdf")]
    if kind == "url":
        return [items.file_part(file_url=f.req_str(source, "url", where), filename=title)]
    if kind == "text":
        heading = [t for t in (title, f.opt_str(block, "context", path)) if t]
        text = "\n\n".join([*heading, f.req_str(source, "data", where)])
        return [items.text_part("user", text)]
    if kind == "content":
        return _document_content(source, where)
    return [_unsupported_source(kind, where)]


def _document_content(source: JSONObject, path: str) -> list[JSONObject]:
    content = source.get("content")
    if isinstance(content, str):
        return [items.text_part("user", content)]
    values = f.opt_list(source, "content", path)
    if values is None:
        raise RequestError(f"Missing required parameter: '{path}content'.", param=path + "content")
    return _result_parts(values, path + "content")


def _unsupported_source(kind: str, where: str) -> JSONObject:
    if kind == "file":
        raise UnsupportedFeature(
            f"Invalid value for '{where}type': uploaded files (Files API) are not supported; "
            "send the data inline.",
            param=where + "type",
        )
    raise RequestError(
        f"Invalid value for '{where}type': '{kind}' is not a supported source type.", param=where + "type"
    )


def tool_output(content: Any, path: str) -> str | list[JSONObject]:
    """A tool result's content: a string stays a string, blocks become input parts."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise f.wrong_type(path, "a string or an array of content blocks", content)
    parts = _result_parts(content, path)
    if len(parts) == 1 and parts[0]["type"] == "input_text":
        return str(parts[0]["text"])
    return parts


def _result_parts(values: list[Any], path: str) -> list[JSONObject]:
    """Blocks nested in a tool result or a content document: text, images, documents."""
    out: list[JSONObject] = []
    for j, value in enumerate(values):
        where = f"{path}[{j}]."
        block = f.as_obj(value, f"{path}[{j}]")
        kind = f.req_str(block, "type", where)
        if kind == "text":
            out.append(items.text_part("user", f.req_str(block, "text", where)))
        elif kind == "image":
            out.append(image(block, where))
        elif kind == "document":
            out.extend(document(block, where))
        else:
            raise RequestError(
                f"Invalid value for '{where}type': '{kind}' is not supported here.", param=where + "type"
            )
    return out


def _as_error(output: str | list[JSONObject]) -> str | list[JSONObject]:
    """``is_error`` has no Responses field: the result text says it instead."""
    if isinstance(output, str):
        return ERROR_PREFIX + output
    for part in output:
        if part.get("type") == "input_text":
            part["text"] = ERROR_PREFIX + str(part.get("text") or "")
            return output
    return [items.text_part("user", ERROR_PREFIX.strip()), *output]
