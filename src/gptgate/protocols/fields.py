"""Typed reads of a decoded JSON request, failing with the parameter's path in the message.

Every front door validates with these, so "wrong type" always reads the same way and names the
field as the client wrote it (``messages[2].content[0].image_url.url``).
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from gptgate.errors import RequestError
from gptgate.types import JSONObject

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
}


#: Deepest nesting of objects and arrays a request may have. Real schemas and contents stay far
#: below it; past it, recursive code (and orjson's 255-level encoder) would fail on re-encoding.
MAX_DEPTH: Final = 128
#: orjson refuses to encode 255 nested containers: wrapping a value in ``254 - MAX_DEPTH`` lists
#: makes that C-speed encoder the depth check (5x cheaper than walking the value in Python).
_ORJSON_LEVELS: Final = 254


def parse_object(body: bytes) -> JSONObject:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    if not body:
        raise RequestError("The request body is empty; a JSON object is required.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            raise too_deep() from exc
        raise RequestError(f"The request body is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise RequestError("The request body must be a JSON object.")
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and not within_depth(data):
        raise too_deep()
    return data


def within_depth(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests at most ``limit`` objects/arrays deep."""
    wrapped = value
    for _ in range(_ORJSON_LEVELS - limit):
        wrapped = [wrapped]
    try:
        orjson.dumps(wrapped)
    except TypeError:
        return False
    return True


def too_deep() -> RequestError:
    return RequestError(
        f"The request body nests objects and arrays more than {MAX_DEPTH} levels deep.",
        code="nesting_too_deep",
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    for t, name in _TYPE_NAMES.items():
        if type(value) is t:
            return name
    return type(value).__name__


def wrong_type(path: str, expected: str, value: Any) -> RequestError:
    return RequestError(
        f"Invalid type for '{path}': expected {expected}, but got {_kind(value)}.", param=path
    )


def req_str(obj: JSONObject, key: str, path: str = "") -> str:
    value = obj.get(key)
    where = path + key
    if value is None:
        raise RequestError(
            f"Missing required parameter: '{where}'.", param=where, code="missing_required_parameter"
        )
    if not isinstance(value, str):
        raise wrong_type(where, "a string", value)
    return value


def opt_str(obj: JSONObject, key: str, path: str = "") -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise wrong_type(path + key, "a string", value)


def opt_bool(obj: JSONObject, key: str, path: str = "") -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise wrong_type(path + key, "a boolean", value)


def opt_int(obj: JSONObject, key: str, path: str = "") -> int | None:
    value = obj.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise wrong_type(path + key, "an integer", value)


def opt_number(obj: JSONObject, key: str, path: str = "") -> float | None:
    value = obj.get(key)
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    raise wrong_type(path + key, "a number", value)


def opt_obj(obj: JSONObject, key: str, path: str = "") -> JSONObject | None:
    value = obj.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise wrong_type(path + key, "an object", value)


def opt_list(obj: JSONObject, key: str, path: str = "") -> list[Any] | None:
    value = obj.get(key)
    if value is None or isinstance(value, list):
        return value
    raise wrong_type(path + key, "an array", value)


def as_obj(value: Any, path: str) -> JSONObject:
    if not isinstance(value, dict):
        raise wrong_type(path, "an object", value)
    return value


def header_safe(value: str | None, path: str) -> str | None:
    """A field that travels in an upstream HTTP header: no control characters (CR/LF would
    split the header; aiohttp refuses them only when the request is already on its way)."""
    if value is None or value.isprintable():
        return value
    raise RequestError(
        f"Invalid value for '{path}': control characters are not allowed.", param=path, code="invalid_value"
    )


def is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True
