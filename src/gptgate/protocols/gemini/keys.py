"""Proto-JSON field access: every Gemini field may arrive as camelCase or as snake_case.

Google's JSON mapping accepts both spellings (``inlineData`` / ``inline_data``), and clients
built on protobuf libraries send the latter. These readers look for the camelCase name first,
then its snake_case twin, and name the spelling the client used when a value is wrong.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from gptgate.protocols import fields as f
from gptgate.types import JSONObject

_UPPER = re.compile(r"([A-Z])")


@functools.cache
def snake(camel: str) -> str:
    return _UPPER.sub(r"_\1", camel).lower()


@functools.cache
def camel(name: str) -> str:
    """``thinking_config`` -> ``thinkingConfig``; leading underscores are kept (``_responseJsonSchema``)."""
    bare = name.lstrip("_")
    head, *rest = bare.split("_")
    return name[: len(name) - len(bare)] + head + "".join(w[:1].upper() + w[1:] for w in rest)


def pick(obj: JSONObject, name: str) -> tuple[str, Any]:
    """(the key the client used, its value), preferring camelCase; (``name``, None) when absent."""
    value = obj.get(name)
    if value is not None:
        return name, value
    other = snake(name)
    value = obj.get(other)
    return (other, value) if value is not None else (name, None)


def opt_str(obj: JSONObject, name: str, path: str = "") -> str | None:
    return f.opt_str(obj, pick(obj, name)[0], path)


def req_str(obj: JSONObject, name: str, path: str = "") -> str:
    return f.req_str(obj, pick(obj, name)[0], path)


def opt_bool(obj: JSONObject, name: str, path: str = "") -> bool | None:
    return f.opt_bool(obj, pick(obj, name)[0], path)


def opt_int(obj: JSONObject, name: str, path: str = "") -> int | None:
    """Proto-JSON writes int64 values as strings (``"8192"``); both forms are accepted."""
    key, value = pick(obj, name)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return f.opt_int(obj, key, path)


def opt_obj(obj: JSONObject, name: str, path: str = "") -> JSONObject | None:
    return f.opt_obj(obj, pick(obj, name)[0], path)


def opt_list(obj: JSONObject, name: str, path: str = "") -> list[Any] | None:
    return f.opt_list(obj, pick(obj, name)[0], path)
