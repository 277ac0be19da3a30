"""Gemini ``GenerateContentRequest`` -> canonical request (client-apis.md §5.2, §7.5).

``contents`` are decoded in :mod:`.contents`; this module reads the rest: the system
instruction, tools and tool config, and ``generationConfig`` (thinking, structured output, and
the sampling knobs the upstream has no use for, which are reported in ``req.ignored``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gptgate.canonical import items
from gptgate.canonical.effort import effort_for_budget, effort_for_level
from gptgate.canonical.hosted import IMAGE_TOOL
from gptgate.canonical.names import NameMap
from gptgate.canonical.request import CanonicalRequest
from gptgate.errors import RequestError, UnsupportedFeature
from gptgate.protocols import fields as f
from gptgate.protocols.gemini import keys as k
from gptgate.protocols.gemini import rules as r
from gptgate.protocols.gemini.contents import ContentDecoder, system_text
from gptgate.protocols.gemini.params import REQUEST, check_generation
from gptgate.protocols.gemini.schema import to_json_schema
from gptgate.types import JSONObject

#: Top-level fields accepted without effect on the upstream request (reported back).
IGNORED: Final = ("safetySettings", "cachedContent", "labels", "serviceTier", "store")
_CAMEL: Final = {k.snake(name): name for name in IGNORED}
#: Every documented top-level field under both spellings; any other rides in ``req.extras``.
KNOWN: Final = r.spellings(
    (*IGNORED, "model", "contents", "systemInstruction", "tools", "toolConfig", "generationConfig")
)
#: ``generationConfig`` fields read by this module.
READ_CONFIG: Final = r.spellings(
    (
        "thinkingConfig",
        "responseMimeType",
        "responseSchema",
        "responseJsonSchema",
        "_responseJsonSchema",
        "responseModalities",
    )
)
UNSERVABLE_CONFIG: Final = r.spellings(("speechConfig", "imageConfig", "audioTimestamp"))
CANDIDATE_COUNT: Final = r.spellings(("candidateCount",))
FUNCTION_DECLARATIONS: Final = r.spellings(("functionDeclarations",))
SEARCH_TOOLS: Final = r.spellings(("googleSearch", "googleSearchRetrieval"))
CODE_EXECUTION: Final = r.spellings(("codeExecution",))
#: ``FunctionDeclaration`` fields (google-genai ``types.FunctionDeclaration``); the schemas are
#: checked as they are converted.
DECLARATION: Final = r.fields(
    {
        "name": r.function_name,
        "description": r.STR,
        "parameters": r.OBJ,
        "response": r.OBJ,
        "behavior": r.enum("UNSPECIFIED", "BLOCKING", "NON_BLOCKING"),
    }
)


@dataclass(slots=True)
class Decoded:
    """The canonical request and what the reply encoder needs to speak back in Gemini terms."""

    request: CanonicalRequest
    names: NameMap
    include_thoughts: bool = False


def decode(body: JSONObject, model: str) -> Decoded:
    """``model`` comes from the path (``models/{model}:generateContent``)."""
    model = model.removeprefix("models/")
    extras, present = _check_top(body)
    raw_contents = k.opt_list(body, "contents")
    if not raw_contents:
        raise RequestError("'contents' must be a non-empty array.", param="contents")
    names = NameMap()
    contents = ContentDecoder(names)
    system = _system(body)
    req = CanonicalRequest(model=model, requested_model=model, input=system, origin="gemini")
    req.input.extend(contents.decode(raw_contents))
    req.tools = _tools(body, names)
    req.tool_choice = _tool_choice(body, names)
    if req.tools:
        req.parallel_tool_calls = True  # Gemini models call functions in parallel; no switch exists
    config_key, _ = k.pick(body, "generationConfig")
    config = k.opt_obj(body, "generationConfig") or {}
    check_generation(config, config_key + ".")
    if _wants_images(config):
        req.tools.append({"type": IMAGE_TOOL})
    req.reasoning, include_thoughts = _thinking(config)
    req.text = _text_format(config)
    req.ignored = [name for name in IGNORED if name in present]
    req.ignored += _config_ignored(config)
    if contents.foreign_signatures:
        req.ignored.append("thoughtSignature")
    req.extras = extras
    return Decoded(req, names, include_thoughts)


def _check_top(body: JSONObject) -> tuple[JSONObject, set[str]]:
    """One pass over the top level: documented fields checked (params.REQUEST), unknown ones
    kept as extras (they ride along, DESIGN rule 5); also which ``IGNORED`` fields are set."""
    extras: JSONObject = {}
    present: set[str] = set()
    for key, value in body.items():
        rule = REQUEST.get(key)
        if rule is not None:
            if value is not None:
                rule(value, key)
                present.add(_CAMEL.get(key, key))
        elif key not in KNOWN:
            extras[key] = value
    return extras, present


def decode_count(body: JSONObject, model: str) -> CanonicalRequest:
    """``countTokens`` takes either a bare ``{contents, ...}`` or ``{generateContentRequest}``."""
    key, inner = k.pick(body, "generateContentRequest")
    if inner is not None:
        inner = f.as_obj(inner, key)
        return decode(inner, k.opt_str(inner, "model", key + ".") or model).request
    return decode(body, model).request


def _system(body: JSONObject) -> list[JSONObject]:
    key, value = k.pick(body, "systemInstruction")
    if value is None:
        return []
    text = system_text(value, key)
    return [items.message("developer", [items.text_part("developer", text)])] if text else []


# -- tools
def _tools(body: JSONObject, names: NameMap) -> list[JSONObject]:
    out: list[JSONObject] = []
    for i, value in enumerate(k.opt_list(body, "tools") or ()):
        tool = f.as_obj(value, f"tools[{i}]")
        for key, spec in tool.items():
            path = f"tools[{i}].{key}"
            if spec is None:
                continue
            if key in FUNCTION_DECLARATIONS:
                if not isinstance(spec, list):
                    raise f.wrong_type(path, "an array", spec)
                for j, decl in enumerate(spec):
                    out.append(_function(f.as_obj(decl, f"{path}[{j}]"), f"{path}[{j}].", names))
                continue
            f.as_obj(spec, path)  # every other tool is a message (most of them empty)
            if key in SEARCH_TOOLS:
                if not any(t.get("type") == "web_search" for t in out):
                    out.append({"type": "web_search"})
            elif key in CODE_EXECUTION:
                raise UnsupportedFeature(
                    f"'{path}': code execution is not supported by the upstream.", param=path
                )
            else:
                raise UnsupportedFeature(f"'{path}': this tool is not supported by the upstream.", param=path)
    return out


def _function(decl: JSONObject, path: str, names: NameMap) -> JSONObject:
    r.check_message(decl, DECLARATION, path)
    name_key, name = k.pick(decl, "name")
    if name is None:
        raise r.missing(path + name_key)
    json_key, schema = k.pick(decl, "parametersJsonSchema")
    key, openapi = k.pick(decl, "parameters")
    if schema is not None and openapi is not None:
        raise r.invalid(path + json_key, f"'{key}' and '{json_key}' cannot be set together; use one")
    if schema is not None:
        parameters: JSONObject | None = f.as_obj(schema, path + json_key)
    else:
        parameters = None if openapi is None else to_json_schema(openapi, path + key)
    response_key, response = k.pick(decl, "responseJsonSchema")
    if response is not None and k.pick(decl, "response")[1] is not None:
        raise r.invalid(
            path + response_key, f"'response' and '{response_key}' cannot be set together; use one"
        )
    if parameters is not None and "type" not in parameters:
        parameters = {"type": "object", **parameters}
    return items.function_tool(names.upstream(name), k.opt_str(decl, "description", path), parameters, False)


def _tool_choice(body: JSONObject, names: NameMap) -> str | JSONObject | None:
    """``toolConfig`` was checked with the top level (params.TOOL_CONFIG)."""
    config = k.opt_obj(body, "toolConfig") or {}
    calling = k.opt_obj(config, "functionCallingConfig", "toolConfig.")
    if calling is None:
        return None
    mode = (k.opt_str(calling, "mode") or "AUTO").upper()
    allowed = [names.upstream(v) for v in k.opt_list(calling, "allowedFunctionNames") or ()]
    if mode == "NONE":
        return "none"
    if mode == "ANY":
        if len(allowed) == 1:
            return {"type": "function", "name": allowed[0]}
        return _allowed("required", allowed) if allowed else "required"
    return _allowed("auto", allowed) if allowed else "auto"


def _allowed(mode: str, names: list[str]) -> JSONObject:
    return {"type": "allowed_tools", "mode": mode, "tools": [{"type": "function", "name": n} for n in names]}


# -- generationConfig
def _thinking(config: JSONObject) -> tuple[JSONObject | None, bool]:
    key, value = k.pick(config, "thinkingConfig")
    if value is None:
        return None, False
    path = f"generationConfig.{key}."
    thinking = f.as_obj(value, path[:-1])
    include = bool(k.opt_bool(thinking, "includeThoughts", path))
    level = k.opt_str(thinking, "thinkingLevel", path)
    if level and level.upper() != "THINKING_LEVEL_UNSPECIFIED":
        effort = effort_for_level(level)
        if effort is None:
            raise RequestError(
                f"Invalid value at '{path}thinkingLevel': '{level}'.", param=path + "thinkingLevel"
            )
    else:
        effort = effort_for_budget(k.opt_int(thinking, "thinkingBudget", path))
    return ({"effort": effort} if effort else None), include


def _text_format(config: JSONObject) -> JSONObject | None:
    path = "generationConfig."
    mime = k.opt_str(config, "responseMimeType", path)
    key, schema = k.pick(config, "responseJsonSchema")
    if schema is None:
        schema = config.get("_responseJsonSchema")
    if schema is not None:
        fmt = _json_schema(f.as_obj(schema, path + key))
    elif (found := k.pick(config, "responseSchema"))[1] is not None:
        fmt = _json_schema(to_json_schema(found[1], path + found[0]))
    elif mime == "application/json":
        fmt = {"type": "json_object"}
    elif mime in (None, "", "text/plain"):
        return None
    else:
        raise UnsupportedFeature(
            f"Invalid value at '{path}responseMimeType': '{mime}' is not supported "
            "(use text/plain or application/json).",
            param=path + "responseMimeType",
        )
    return {"format": fmt}


def _json_schema(schema: JSONObject) -> JSONObject:
    return {"type": "json_schema", "name": "response", "schema": schema, "strict": False}


def _wants_images(config: JSONObject) -> bool:
    """``responseModalities`` naming IMAGE: the upstream's image tool is offered (images come back
    as ``inlineData`` parts)."""
    modalities = k.opt_list(config, "responseModalities", "generationConfig.") or []
    return any(str(m).upper() == "IMAGE" for m in modalities)


def _config_ignored(config: JSONObject) -> list[str]:
    """Sampling knobs (temperature, topP, topK, maxOutputTokens, stopSequences, seed...) and any
    other field not read here are accepted and reported; what cannot be served is refused."""
    ignored: list[str] = []
    for key, value in config.items():
        path = f"generationConfig.{key}"
        if value is None or key in READ_CONFIG:
            continue
        if key in UNSERVABLE_CONFIG:
            raise UnsupportedFeature(f"'{path}': audio and image output are not supported.", param=path)
        if key in CANDIDATE_COUNT and value not in (0, 1, "1"):
            raise UnsupportedFeature(
                f"Invalid value at '{path}': only one candidate can be generated per request.", param=path
            )
        ignored.append(path)
    modalities = k.opt_list(config, "responseModalities", "generationConfig.") or []
    if any(str(m).upper() not in ("TEXT", "IMAGE", "MODALITY_UNSPECIFIED") for m in modalities):
        raise UnsupportedFeature(
            "'generationConfig.responseModalities': only TEXT and IMAGE output are supported.",
            param="generationConfig.responseModalities",
        )
    return ignored
