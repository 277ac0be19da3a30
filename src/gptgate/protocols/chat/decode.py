"""Chat Completions request -> canonical request (client-apis.md §2.1, §7.1)."""

from __future__ import annotations

from typing import Any, Final

import orjson

from gptgate.canonical import items
from gptgate.canonical.hosted import IMAGE_TOOL, SEARCH_TOOL
from gptgate.canonical.request import CanonicalRequest
from gptgate.errors import RequestError, UnsupportedFeature
from gptgate.protocols import checks as c
from gptgate.protocols import fields as f
from gptgate.protocols import openai_checks as oc
from gptgate.protocols.chat.params import DETAILS, SPEC
from gptgate.types import JSONObject

#: Accepted, but the Codex upstream has no equivalent: reported in ``x-gptgate-ignored``.
IGNORED: Final = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "stop",
    "logit_bias",
    "user",
    "metadata",
    "store",
    "safety_identifier",
    "prediction",
)
KNOWN: Final = frozenset(
    {
        *IGNORED,
        "model",
        "messages",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "functions",
        "function_call",
        "response_format",
        "reasoning_effort",
        "reasoning",
        "verbosity",
        "prompt_cache_key",
        "session_id",
        "service_tier",
        "n",
        "logprobs",
        "top_logprobs",
        "modalities",
        "audio",
        "web_search_options",
    }
)
HOSTED_TOOLS: Final = frozenset({IMAGE_TOOL, SEARCH_TOOL})
TOOL_TYPES: Final = ("function", "custom", *sorted(HOSTED_TOOLS))
ROLES: Final = ("system", "developer", "user", "assistant", "tool", "function")
#: roles whose ``content`` the API requires (an assistant may send only tool calls)
CONTENT_REQUIRED: Final = frozenset({"system", "developer", "user", "tool"})
#: the content parts each role may send, as the SDK's message params type them (system,
#: developer and tool messages: text only)
PARTS: Final = {"user": ("text", "image_url", "input_audio", "file"), "assistant": ("text", "refusal")}
TEXT_ONLY: Final = ("text",)
AUDIO_INPUT: Final[c.Spec] = {"data": c.STR, "format": c.enum("wav", "mp3")}
CUSTOM_TOOL: Final[c.Spec] = {
    "name": oc.name,
    "description": c.STR,
    "format": c.nested({"type": c.enum("text", "grammar"), "grammar": c.OBJ}),
}
ALLOWED_TOOLS: Final[c.Spec] = {"mode": c.enum("auto", "required"), "tools": c.list_of(c.OBJ)}
JSON_SCHEMA: Final = oc.json_schema(schema_required=False)
#: OpenAI's search models: the name without the suffix, with the web_search tool
SEARCH_SUFFIXES: Final = ("-search-preview", "-search-api")


#: What the decoder's one walk over the body marks, so a section the body does not touch
#: (no tools, no search, no tool_choice...) is skipped whole.
_KNOWN: Final = 1
_UNSERVABLE: Final = 2
_TOOLS: Final = 4
_SEARCH: Final = 8
_CHOICE: Final = 16
_REASONING: Final = 32
_TEXT: Final = 64
_SESSION: Final = 128
_IGNORED: Final = 256
_SECTIONS: Final = {
    "n": _UNSERVABLE,
    "logprobs": _UNSERVABLE,
    "top_logprobs": _UNSERVABLE,
    "audio": _UNSERVABLE,
    "modalities": _UNSERVABLE | _TOOLS,
    "tools": _TOOLS,
    "functions": _TOOLS,
    "web_search_options": _SEARCH,
    "tool_choice": _CHOICE,
    "function_call": _CHOICE,
    "reasoning_effort": _REASONING,
    "reasoning": _REASONING,
    "response_format": _TEXT,
    "verbosity": _TEXT,
    "prompt_cache_key": _SESSION,
    "session_id": _SESSION,
}
FIELDS: Final = c.table(
    SPEC, {key: _KNOWN | _SECTIONS.get(key, 0) | (_IGNORED if key in IGNORED else 0) for key in KNOWN}
)


def decode(body: JSONObject) -> CanonicalRequest:
    model = body.get("model")
    if type(model) is not str:
        model = f.req_str(body, "model")
    raw_messages = body.get("messages")
    if type(raw_messages) is not list or not raw_messages:
        raw_messages = f.opt_list(body, "messages")
        if not raw_messages:
            raise RequestError("'messages' must be a non-empty array.", param="messages")
    marks, extras = c.walk(body, SPEC, FIELDS)
    if marks == _KNOWN and not model.endswith(SEARCH_SUFFIXES):  # the usual turn: no section
        req = CanonicalRequest(model, _messages(raw_messages), "chat")
        req.requested_model = model
        req.stream = body.get("stream") is True
        req.parallel_tool_calls = body.get("parallel_tool_calls")
        req.service_tier = body.get("service_tier")
        req.extras = extras
        return req
    if marks & _UNSERVABLE:
        _reject_unservable(body)
    req = CanonicalRequest(model, _messages(raw_messages), "chat")  # by position: see canonical/request.py
    req.requested_model = model
    req.stream = body.get("stream") is True
    if marks & _TOOLS:
        req.tools = _tools(body)
    if marks & _SEARCH or model.endswith(SEARCH_SUFFIXES):
        search = _web_search(body, model)
        if search is not None:
            req.model = model.removesuffix(SEARCH_SUFFIXES[0]).removesuffix(SEARCH_SUFFIXES[1])
            req.tools.append(search)
    if marks & _CHOICE:
        req.tool_choice = _tool_choice(body)
    req.parallel_tool_calls = body.get("parallel_tool_calls")
    if marks & _REASONING:
        req.reasoning = _reasoning(body)
    if marks & _TEXT:
        req.text = _text(body)
    if marks & _SESSION:
        req.prompt_cache_key = f.header_safe(
            f.opt_str(body, "prompt_cache_key") or f.opt_str(body, "session_id"), "prompt_cache_key"
        )
    req.service_tier = body.get("service_tier")
    if marks & _IGNORED:
        req.ignored = [k for k in IGNORED if body.get(k) is not None]
    req.extras = extras
    return req


def include_usage(body: JSONObject) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if type(options) is dict:
        usage = options.get("include_usage")
        if usage is None or type(usage) is bool:
            return usage is True
    options = f.opt_obj(body, "stream_options") or {}
    return bool(f.opt_bool(options, "include_usage", "stream_options."))


def _reject_unservable(body: JSONObject) -> None:
    n = f.opt_int(body, "n")
    if n is not None and n != 1:
        raise UnsupportedFeature(
            "'n' > 1 is not supported: the upstream produces one choice per request.", param="n"
        )
    if f.opt_bool(body, "logprobs"):
        raise UnsupportedFeature("'logprobs' is not supported by the upstream.", param="logprobs")
    if body.get("top_logprobs") is not None:
        raise UnsupportedFeature("'top_logprobs' is not supported by the upstream.", param="top_logprobs")
    modalities = f.opt_list(body, "modalities") or []
    if "audio" in modalities or body.get("audio") is not None:
        raise UnsupportedFeature("Audio output is not supported by the upstream.", param="modalities")


#: a message that is only a role and a string (the usual user turn): its canonical role
_PLAIN_ROLES: Final = {"user": "user", "system": "developer", "developer": "developer"}


def _messages(raw: list[Any]) -> list[JSONObject]:
    out: list[JSONObject] = []
    custom_calls: set[str] = set()
    for i, value in enumerate(raw):
        if type(value) is dict:  # the usual turn first, without building its path
            role, content, name = value.get("role"), value.get("content"), value.get("name")
            if type(role) is str and type(content) is str and (name is None or type(name) is str):
                canonical = _PLAIN_ROLES.get(role)
                if canonical is not None:  # items.message of one items.text_part, built here
                    out.append(
                        {
                            "type": "message",
                            "role": canonical,
                            "content": [{"type": "input_text", "text": content}],
                        }
                    )
                    continue
                call_id = value.get("tool_call_id")
                if role == "tool" and type(call_id) is str:
                    out.append(_tool_output(call_id, content, custom_calls))
                    continue
        msg = f.as_obj(value, f"messages[{i}]")
        role = f.req_str(msg, "role", f"messages[{i}].")
        path = f"messages[{i}]."
        if role in CONTENT_REQUIRED and msg.get("content") is None:
            raise oc.missing(path + "content")
        f.opt_str(msg, "name", path)
        if role in ("system", "developer"):
            out.append(items.message("developer", _content(msg, path, "developer")))
        elif role == "user":
            out.append(items.message("user", _content(msg, path, "user")))
        elif role == "assistant":
            out.extend(_assistant(msg, path, custom_calls))
        elif role in ("tool", "function"):
            out.append(_tool_result(msg, path, role, custom_calls))
        else:
            raise oc.unsupported_type(role, path + "role", ROLES)
    return out


def _content(msg: JSONObject, path: str, role: str) -> list[JSONObject]:
    content = msg.get("content")
    if isinstance(content, str):
        return [items.text_part(role, content)]
    if content is None:
        return []
    if not isinstance(content, list):
        raise f.wrong_type(path + "content", "a string or an array of content parts", content)
    allowed = PARTS.get(role, TEXT_ONLY)  # every role's holds "text"
    out: list[JSONObject] = []
    for j, p in enumerate(content):
        if type(p) is dict and p.get("type") == "text" and type(text := p.get("text")) is str:
            out.append(items.text_part(role, text))  # the usual part, without building its path
        else:
            out.append(_part(f.as_obj(p, f"{path}content[{j}]"), f"{path}content[{j}].", role, allowed))
    return out


def _part(part: JSONObject, path: str, role: str, allowed: tuple[str, ...]) -> JSONObject:
    kind = f.req_str(part, "type", path)
    if kind not in allowed:
        raise oc.unsupported_type(kind, path + "type", allowed)
    if kind == "text":
        return items.text_part(role, f.req_str(part, "text", path))
    if kind == "refusal":
        return {"type": "refusal", "refusal": f.req_str(part, "refusal", path)}
    if kind == "image_url":
        image = f.as_obj(part.get("image_url"), path + "image_url")
        c.check(image, {"detail": c.enum(*DETAILS)}, path + "image_url.")
        return items.image_part(f.req_str(image, "url", path + "image_url."), f.opt_str(image, "detail"))
    if kind == "file":
        return _file(f.as_obj(part.get("file"), path + "file"), path + "file.")
    audio = f.as_obj(part.get("input_audio"), path + "input_audio")
    oc.required(audio, ("data", "format"), path + "input_audio.")
    c.check(audio, AUDIO_INPUT, path + "input_audio.")
    raise UnsupportedFeature("Audio input is not supported by the upstream.", param=path + "type")


def _file(file: JSONObject, path: str) -> JSONObject:
    data = f.opt_str(file, "file_data", path)
    f.opt_str(file, "file_id", path)
    if data is None:
        if file.get("file_id") is not None:
            raise UnsupportedFeature(
                "Uploaded file ids cannot be used here; send the file inline as 'file_data'.",
                param=path + "file_id",
            )
        raise RequestError(f"Missing required parameter: '{path}file_data'.", param=path + "file_data")
    return items.file_part(file_data=data, filename=f.opt_str(file, "filename", path))


def _assistant(msg: JSONObject, path: str, custom_calls: set[str]) -> list[JSONObject]:
    out: list[JSONObject] = []
    content = _content(msg, path, "assistant")
    if content:
        out.append(items.message("assistant", content))
    for j, value in enumerate(f.opt_list(msg, "tool_calls", path) or []):
        call = f.as_obj(value, f"{path}tool_calls[{j}]")
        out.append(_tool_call(call, f"{path}tool_calls[{j}].", custom_calls))
    legacy = f.opt_obj(msg, "function_call", path)
    if legacy is not None:
        name = f.req_str(legacy, "name", path + "function_call.")
        arguments = f.req_str(legacy, "arguments", path + "function_call.")
        c.json_text(arguments, path + "function_call.arguments")
        out.append(items.function_call(f"call_{name}", name, arguments or "{}"))
    return out


def _tool_call(call: JSONObject, path: str, custom_calls: set[str]) -> JSONObject:
    call_id = f.req_str(call, "id", path)
    kind = f.req_str(call, "type", path)
    if kind == "custom":
        custom = f.as_obj(call.get("custom"), path + "custom")
        custom_calls.add(call_id)
        name = f.req_str(custom, "name", path + "custom.")
        return items.custom_tool_call(call_id, name, f.req_str(custom, "input", path + "custom."))
    if kind != "function":
        raise oc.unsupported_type(kind, path + "type", ("function", "custom"))
    fn = f.as_obj(call.get("function"), path + "function")
    arguments = fn.get("arguments")
    if isinstance(arguments, dict):  # lenient: some clients send an object
        arguments = orjson.dumps(arguments).decode()
    else:  # required, and JSON, as the API checks it
        f.req_str(fn, "arguments", path + "function.")
        c.json_text(arguments, path + "function.arguments")
    return items.function_call(call_id, f.req_str(fn, "name", path + "function."), arguments or "")


def _tool_result(msg: JSONObject, path: str, role: str, custom_calls: set[str]) -> JSONObject:
    if role == "function":  # legacy: paired by name with the legacy function_call above
        return items.function_call_output(f"call_{f.req_str(msg, 'name', path)}", _result_text(msg, path))
    return _tool_output(f.req_str(msg, "tool_call_id", path), _result_text(msg, path), custom_calls)


def _tool_output(call_id: str, output: str, custom_calls: set[str]) -> JSONObject:
    if call_id in custom_calls:
        return items.custom_tool_call_output(call_id, output)
    return items.function_call_output(call_id, output)


def _result_text(msg: JSONObject, path: str) -> str:
    content = msg.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    parts = _content(msg, path, "tool")
    return "".join(p.get("text") or "" for p in parts)


def _tools(body: JSONObject) -> list[JSONObject]:
    out: list[JSONObject] = []
    for i, value in enumerate(f.opt_list(body, "tools") or []):
        tool = f.as_obj(value, f"tools[{i}]")
        kind = f.req_str(tool, "type", f"tools[{i}].")
        if kind == "function":
            fn = f.as_obj(tool.get("function"), f"tools[{i}].function")
            out.append(_function_tool(fn, f"tools[{i}].function."))
        elif kind == "custom":
            custom = f.as_obj(tool.get("custom"), f"tools[{i}].custom")
            oc.required(custom, ("name",), f"tools[{i}].custom.")
            c.check(custom, CUSTOM_TOOL, f"tools[{i}].custom.")
            out.append({"type": "custom", **custom})
        elif kind in HOSTED_TOOLS:  # the upstream's own tools, Responses-shaped (an extension)
            out.append(dict(tool))
        else:
            raise oc.unsupported_type(kind, f"tools[{i}].type", TOOL_TYPES)
    for i, value in enumerate(f.opt_list(body, "functions") or []):
        out.append(_function_tool(f.as_obj(value, f"functions[{i}]"), f"functions[{i}]."))
    if "image" in (f.opt_list(body, "modalities") or ()) and not any(t["type"] == IMAGE_TOOL for t in out):
        out.append({"type": IMAGE_TOOL})  # OpenRouter's way to ask a chat model for images
    return out


def _function_tool(fn: JSONObject, path: str) -> JSONObject:
    oc.name(f.req_str(fn, "name", path), path + "name")
    return items.function_tool(
        fn["name"],
        f.opt_str(fn, "description", path),
        f.opt_obj(fn, "parameters", path),
        f.opt_bool(fn, "strict", path),
    )


def _web_search(body: JSONObject, model: str) -> JSONObject | None:
    """``web_search_options`` (or a search model's name) -> the canonical ``web_search`` tool:
    ``search_context_size`` as is, ``user_location.approximate`` flattened as Responses has it."""
    options = f.opt_obj(body, "web_search_options")
    if options is None and not model.endswith(SEARCH_SUFFIXES):
        return None
    options = options or {}
    tool: JSONObject = {"type": "web_search"}
    size = f.opt_str(options, "search_context_size", "web_search_options.")
    if size is not None:
        c.check(options, {"search_context_size": c.enum("low", "medium", "high")}, "web_search_options.")
        tool["search_context_size"] = size
    location = f.opt_obj(options, "user_location", "web_search_options.")
    if location is not None:
        approximate = f.opt_obj(location, "approximate", "web_search_options.user_location.") or {}
        tool["user_location"] = {"type": "approximate", **approximate}
    return tool


def _tool_choice(body: JSONObject) -> str | JSONObject | None:
    choice = body.get("tool_choice")
    if choice is None:
        return _legacy_function_call(body.get("function_call"))
    if choice in ("none", "auto", "required"):
        return choice  # type: ignore[no-any-return]
    if isinstance(choice, str):
        raise oc.unsupported_type(choice, "tool_choice", ("none", "auto", "required"))
    choice = f.as_obj(choice, "tool_choice")
    kind = f.req_str(choice, "type", "tool_choice.")
    if kind == "function":
        fn = f.as_obj(choice.get("function"), "tool_choice.function")
        return {"type": "function", "name": f.req_str(fn, "name", "tool_choice.function.")}
    if kind == "custom":
        custom = f.as_obj(choice.get("custom"), "tool_choice.custom")
        return {"type": "custom", "name": f.req_str(custom, "name", "tool_choice.custom.")}
    if kind == "allowed_tools":
        allowed = f.as_obj(choice.get("allowed_tools"), "tool_choice.allowed_tools")
        oc.required(allowed, ("mode", "tools"), "tool_choice.allowed_tools.")
        c.check(allowed, ALLOWED_TOOLS, "tool_choice.allowed_tools.")
        tools = [{"type": "function", "name": (t.get("function") or t).get("name")} for t in allowed["tools"]]
        return {"type": "allowed_tools", "mode": allowed["mode"], "tools": tools}
    raise oc.unsupported_type(kind, "tool_choice.type", ("function", "custom", "allowed_tools"))


def _legacy_function_call(choice: Any) -> str | JSONObject | None:
    """The deprecated ``function_call``: ``none``, ``auto`` or ``{"name": ...}``."""
    if choice is None or choice in ("none", "auto"):
        return choice  # type: ignore[no-any-return]
    if isinstance(choice, str):
        raise oc.unsupported_type(choice, "function_call", ("none", "auto"))
    choice = f.as_obj(choice, "function_call")
    return {"type": "function", "name": f.req_str(choice, "name", "function_call.")}


def _reasoning(body: JSONObject) -> JSONObject | None:
    effort = f.opt_str(body, "reasoning_effort")
    nested = f.opt_obj(body, "reasoning") or {}
    effort = effort or f.opt_str(nested, "effort", "reasoning.")
    return {"effort": effort} if effort else None


def _text(body: JSONObject) -> JSONObject | None:
    text: JSONObject = {}
    fmt = f.opt_obj(body, "response_format")
    if fmt is not None:
        kind = f.req_str(fmt, "type", "response_format.")
        if kind == "json_object":
            text["format"] = {"type": "json_object"}
        elif kind == "json_schema":
            schema = f.as_obj(fmt.get("json_schema"), "response_format.json_schema")
            JSON_SCHEMA(schema, "response_format.json_schema.")
            text["format"] = {
                "type": "json_schema",
                "name": schema["name"],
                "schema": f.opt_obj(schema, "schema", "response_format.json_schema.") or {},
                "strict": bool(f.opt_bool(schema, "strict")),
                **({"description": schema["description"]} if schema.get("description") else {}),
            }
        elif kind != "text":
            raise RequestError(
                f"Invalid value for 'response_format.type': '{kind}'.", param="response_format.type"
            )
    verbosity = f.opt_str(body, "verbosity")
    if verbosity:
        text["verbosity"] = verbosity
    return text or None
