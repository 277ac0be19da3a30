"""Gemini ``contents`` -> canonical input items (client-apis.md §5.2, §7.5).

One method per part kind. Parts of consecutive turns with the same role gather into one
message; a function call, a function response or a reasoning item closes the open message so
the item order the model produced is kept. Streamed replies that a client stored chunk by chunk
(google-genai's chat history does) come back as many model turns of text fragments: adjacent
model text is joined again into one ``output_text``.
"""

from __future__ import annotations

import mimetypes
from collections import deque
from collections.abc import Callable
from typing import Any, Final

import orjson

from gptgate.canonical import items
from gptgate.canonical.names import NameMap, safe_id
from gptgate.errors import RequestError, UnsupportedFeature
from gptgate.protocols import fields as f
from gptgate.protocols.gemini import keys as k
from gptgate.protocols.gemini import rules as r
from gptgate.protocols.gemini import signature
from gptgate.types import JSONObject

ROLES: Final = {"user": "user", "model": "assistant", "function": "user", "tool": "user"}
_LEVELS: Final = ("UNSPECIFIED", "LOW", "MEDIUM", "HIGH", "ULTRA_HIGH")
#: Part fields that describe the part rather than carry its data, with their checks (either
#: spelling; google-genai ``types.Part``).
_META_RULES: Final[dict[str, r.Check]] = {
    "thought": r.BOOL,
    "thoughtSignature": r.base64_bytes,
    "videoMetadata": r.message({"startOffset": r.STR, "endOffset": r.STR, "fps": r.NUM}),
    "partMetadata": r.OBJ,
    "mediaResolution": r.message(
        {"level": r.enum(*(f"MEDIA_RESOLUTION_{level}" for level in _LEVELS)), "numTokens": r.INT}
    ),
}
METADATA: Final = r.fields(_META_RULES)
_EXECUTABLE_CODE: Final = r.message(
    {"code": r.STR, "language": r.enum("LANGUAGE_UNSPECIFIED", "PYTHON"), "id": r.STR}, "code"
)
_CODE_RESULT: Final = r.message(
    {
        "outcome": r.enum("OUTCOME_UNSPECIFIED", "OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED"),
        "output": r.STR,
        "id": r.STR,
    }
)
#: ``FunctionCall`` / ``FunctionResponse`` fields the decoder does not read.
_CALL_EXTRAS: Final = r.fields({"partialArgs": r.list_of(r.OBJ), "willContinue": r.BOOL})
_RESPONSE_EXTRAS: Final = r.fields(
    {
        "willContinue": r.BOOL,
        "scheduling": r.enum("SCHEDULING_UNSPECIFIED", "SILENT", "WHEN_IDLE", "INTERRUPT"),
    }
)
_TO_STANDARD_B64: Final = str.maketrans("-_", "+/")

PartHandler = Callable[["ContentDecoder", Any, JSONObject, str], None]


class ContentDecoder:
    """Decodes ``contents`` (and ``systemInstruction``) into :attr:`items`."""

    __slots__ = ("_calls", "_made_ids", "_message", "_names", "_role", "foreign_signatures", "items")

    def __init__(self, names: NameMap) -> None:
        self._names = names
        self.items: list[JSONObject] = []
        self._message: list[JSONObject] = []
        self._role = "user"
        #: upstream tool name -> call ids still waiting for their response, oldest first
        self._calls: dict[str, deque[str]] = {}
        self._made_ids = 0
        self.foreign_signatures = 0

    def decode(self, contents: list[Any]) -> list[JSONObject]:
        for i, value in enumerate(contents):
            self.content(f.as_obj(value, f"contents[{i}]"), f"contents[{i}].")
        self._flush()
        return self.items

    def content(self, content: JSONObject, path: str) -> None:
        role_name = k.opt_str(content, "role", path) or "user"
        role = ROLES.get(role_name)
        if role is None:
            raise RequestError(
                f"Invalid value at '{path}role': '{role_name}' (expected 'user' or 'model').",
                param=path + "role",
            )
        if role != self._role:
            self._flush()
            self._role = role
        for j, value in enumerate(required_parts(content, path)):
            where = f"{path}parts[{j}]"
            self._part(f.as_obj(value, where), where + ".")

    # -- one part
    def _part(self, part: JSONObject, path: str) -> None:
        key = data_field(part, path)
        sig_key, sig = k.pick(part, "thoughtSignature") if key is None or len(part) > 1 else ("", None)
        if sig is not None:
            self._signature(sig, path + sig_key)
            if key is None:
                return  # a bare signature part (Gemini sends them at the end of a stream)
        if key is None:
            raise _bad_part(path, "no data field")
        handler = _PART_HANDLERS.get(key)
        if handler is None:
            raise UnsupportedFeature(
                f"'{path}{key}' parts are not supported by this gateway.", param=path + key
            )
        handler(self, part[key], part, path + key)

    def _text(self, text: Any, part: JSONObject, path: str) -> None:
        if not isinstance(text, str):
            raise f.wrong_type(path, "a string", text)
        if not text or (len(part) > 1 and k.pick(part, "thought")[1] is True):
            return  # thoughts are summaries of the reasoning, which travels in the signature
        if self._role == "assistant" and self._message and self._message[-1]["type"] == "output_text":
            self._message[-1]["text"] += text
        else:
            self._message.append(items.text_part(self._role, text))

    def _inline_data(self, value: Any, part: JSONObject, path: str) -> None:
        blob = f.as_obj(value, path)
        mime = k.req_str(blob, "mimeType", path + ".")
        data_key, data = k.pick(blob, "data")
        if data is None:
            raise r.missing(f"{path}.data")
        r.base64_bytes(data, f"{path}.{data_key}")
        if "-" in data or "_" in data:  # proto JSON bytes may use the URL-safe alphabet
            data = data.translate(_TO_STANDARD_B64)
        url = f"data:{mime};base64,{data}"
        name = k.opt_str(blob, "displayName", path + ".")
        if mime.startswith("image/"):
            self._media(items.image_part(url), path)
        else:
            name = name or _filename(mime)
            self._media(items.file_part(file_data=url, filename=name), path)

    def _file_data(self, value: Any, part: JSONObject, path: str) -> None:
        ref = f.as_obj(value, path)
        uri = k.req_str(ref, "fileUri", path + ".")
        mime = k.opt_str(ref, "mimeType", path + ".") or mimetypes.guess_type(uri)[0] or ""
        k.opt_str(ref, "displayName", path + ".")
        if mime.startswith("image/"):
            self._media(items.image_part(uri), path)
        else:
            self._media(items.file_part(file_url=uri), path)

    def _media(self, content_part: JSONObject, path: str) -> None:
        if self._role == "assistant":
            raise UnsupportedFeature(
                f"'{path}': images and files are only accepted in 'user' turns.", param=path
            )
        self._message.append(content_part)

    def _function_call(self, value: Any, part: JSONObject, path: str) -> None:
        call = f.as_obj(value, path)
        name = self._names.upstream(k.req_str(call, "name", path + "."))
        given = k.opt_str(call, "id", path + ".")
        call_id = safe_id(given) if given else self._new_id()
        args = k.opt_obj(call, "args", path + ".")
        r.check_message(call, _CALL_EXTRAS, path + ".")
        self._calls.setdefault(name, deque()).append(call_id)
        self._item(items.function_call(call_id, name, orjson.dumps(args or {}).decode()))

    def _function_response(self, value: Any, part: JSONObject, path: str) -> None:
        reply = f.as_obj(value, path)
        name = self._names.upstream(k.req_str(reply, "name", path + "."))
        given = k.opt_str(reply, "id", path + ".")
        r.check_message(reply, _RESPONSE_EXTRAS, path + ".")
        waiting = self._calls.get(name)
        if given:
            call_id = safe_id(given)
            if waiting and call_id in waiting:
                waiting.remove(call_id)
        elif waiting:
            call_id = waiting.popleft()
        else:
            raise RequestError(
                f"Invalid value at '{path}': it answers no earlier functionCall named "
                f"'{self._names.client(name)}' (give it the call's 'id' or add the call).",
                param=path,
            )
        self._item(items.function_call_output(call_id, self._output(reply, path)))

    def _output(self, reply: JSONObject, path: str) -> str | list[JSONObject]:
        """The ``response`` object as JSON text; with media ``parts``, a content array."""
        response = k.opt_obj(reply, "response", path + ".")
        text = orjson.dumps(response if response is not None else {}).decode()
        media = k.opt_list(reply, "parts", path + ".")
        if not media:
            return text
        nested = ContentDecoder(self._names)
        for j, value in enumerate(media):
            where = f"{path}.parts[{j}]"
            nested._part(f.as_obj(value, where), where + ".")
        return [items.text_part("user", text), *nested._message]

    def _executable_code(self, value: Any, part: JSONObject, path: str) -> None:
        _EXECUTABLE_CODE(value, path)
        self._unsupported_code(value, part, path)

    def _code_result(self, value: Any, part: JSONObject, path: str) -> None:
        _CODE_RESULT(value, path)
        self._unsupported_code(value, part, path)

    def _unsupported_code(self, value: Any, part: JSONObject, path: str) -> None:
        raise UnsupportedFeature(f"'{path}': code execution is not supported by the upstream.", param=path)

    # -- items
    def _signature(self, sig: str, path: str) -> None:
        encrypted = signature.decode(sig)
        if encrypted is None:
            self.foreign_signatures += 1
            return
        self._item(items.reasoning(encrypted))

    def _item(self, item: JSONObject) -> None:
        self._flush()
        self.items.append(item)

    def _flush(self) -> None:
        if self._message:
            self.items.append(items.message(self._role, self._message))
            self._message = []

    def _new_id(self) -> str:
        """Deterministic, so a replayed history yields the same ids (and prompt-cache hits)."""
        self._made_ids += 1
        return f"call_gemini_{self._made_ids}"


def _filename(mime: str) -> str:
    ext = mimetypes.guess_extension(mime) or ".bin"
    return "document" + ext


_PART_HANDLERS: dict[str, PartHandler] = {}
for _name, _handler in (
    ("text", ContentDecoder._text),
    ("inlineData", ContentDecoder._inline_data),
    ("fileData", ContentDecoder._file_data),
    ("functionCall", ContentDecoder._function_call),
    ("functionResponse", ContentDecoder._function_response),
    ("executableCode", ContentDecoder._executable_code),
    ("codeExecutionResult", ContentDecoder._code_result),
):
    _PART_HANDLERS[_name] = _PART_HANDLERS[k.snake(_name)] = _handler


def system_text(value: Any, path: str) -> str:
    """``systemInstruction``: a Content whose role is ignored, read as plain text."""
    content = f.as_obj(value, path)
    k.opt_str(content, "role", path + ".")
    texts: list[str] = []
    for j, part_value in enumerate(k.opt_list(content, "parts", path + ".") or ()):
        where = f"{path}.parts[{j}]"
        part = f.as_obj(part_value, where)
        key = data_field(part, where + ".")
        if key != "text":
            raise UnsupportedFeature(
                f"'{where}': only text parts are accepted in a system instruction.", param=where
            )
        text = part[key]
        if not isinstance(text, str):
            raise f.wrong_type(f"{where}.text", "a string", text)
        texts.append(text)
    return "\n\n".join(t for t in texts if t)


def required_parts(content: JSONObject, path: str) -> list[Any]:
    """``Content.parts``: the API refuses a turn without parts."""
    key, parts = k.pick(content, "parts")
    if parts is None:
        raise r.missing(path + key)
    if not isinstance(parts, list):
        raise f.wrong_type(path + key, "an array", parts)
    if not parts:
        raise r.invalid(path + key, "contents.parts must not be empty")
    return parts


def data_field(part: JSONObject, path: str) -> str | None:
    """The one data field of a part (``None`` when it has none), its metadata checked on the
    way; ``path`` ends with ``.``."""
    found: str | None = None
    for key, value in part.items():
        if value is None:
            continue
        rule = METADATA.get(key)
        if rule is not None:
            rule(value, path + key)
        elif found is None:
            found = key
        else:
            several = [n for n, v in part.items() if v is not None and n not in METADATA]
            raise _bad_part(path, f"several data fields ({', '.join(several)})")
    return found


def _bad_part(path: str, what: str) -> RequestError:
    return RequestError(
        f"Invalid part at '{path[:-1]}': {what}; a part holds exactly one of text, "
        "inlineData, fileData, functionCall, functionResponse.",
        param=path[:-1],
    )
