"""Checks both OpenAI doors (Chat Completions, Responses) share: required fields, the name
pattern the API enforces on function and schema names, image detail, a json_schema format."""

from __future__ import annotations

import re
from typing import Any, Final

from gptgate.errors import RequestError
from gptgate.protocols import checks as c
from gptgate.protocols import fields as f
from gptgate.types import JSONObject

#: openai-python's ``ImageDetail``
IMAGE_DETAILS: Final = ("auto", "low", "high", "original")
#: what the API matches function, custom tool and json_schema names against
NAME_PATTERN: Final = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def missing(path: str) -> RequestError:
    return RequestError(
        f"Missing required parameter: '{path}'.", param=path, code="missing_required_parameter"
    )


def required(obj: JSONObject, keys: tuple[str, ...], path: str) -> None:
    """Each of ``keys`` present and not null in ``obj`` (``path`` ends with a dot or is empty)."""
    for key in keys:
        if obj.get(key) is None:
            raise missing(path + key)


def rule(keys: tuple[str, ...], spec: c.Spec) -> c.Check:
    """An object whose ``keys`` are required and whose documented fields are typed by ``spec``;
    called with the object's path followed by a dot."""

    def check(value: Any, path: str) -> None:
        required(value, keys, path)
        c.check(value, spec, path)

    return check


def name(value: Any, path: str) -> None:
    """A function, tool or schema name: ``^[a-zA-Z0-9_-]{1,64}$`` as the API checks it."""
    c.STR(value, path)
    if NAME_PATTERN.fullmatch(value) is None:
        raise RequestError(
            f"Invalid '{path}': string does not match pattern. Expected a string that matches "
            "the pattern '^[a-zA-Z0-9_-]{1,64}$'.",
            param=path,
            code="invalid_value",
        )


def obj_at(value: Any, path: str) -> JSONObject:
    """``value`` as an object (``path`` names it, no trailing dot)."""
    if type(value) is not dict:
        raise f.wrong_type(path, "an object", value)
    return value


def kind_of(obj: JSONObject, path: str) -> str:
    """The object's ``type``: required, a string (``path`` ends with a dot)."""
    kind = obj.get("type")
    if type(kind) is str:
        return kind
    if kind is None:
        raise missing(path + "type")
    raise f.wrong_type(path + "type", "a string", kind)


def unsupported_type(kind: str, path: str, supported: tuple[str, ...]) -> RequestError:
    choices = ", ".join(f"'{s}'" for s in supported)
    return RequestError(
        f"Invalid value for '{path}': '{kind[:60]}'. Supported values are: {choices}.",
        param=path,
        code="invalid_value",
    )


#: ``json_schema`` response format: ``name`` (the pattern) and the rest typed; ``schema``
#: required where the door requires it.
SCHEMA_FIELDS: Final[c.Spec] = {"name": name, "schema": c.OBJ, "strict": c.BOOL, "description": c.STR}


def json_schema(schema_required: bool) -> c.Check:
    keys = ("name", "schema") if schema_required else ("name",)
    return rule(keys, SCHEMA_FIELDS)
