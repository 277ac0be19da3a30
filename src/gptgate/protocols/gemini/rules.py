"""Checks of documented Gemini fields, worded as Google words them.

Proto JSON takes camelCase and snake_case alike, so a spec is written with camelCase names and
:func:`fields` spells each both ways once, at import: a check is one dict lookup per key the
client sent (no conversion, no cache that unknown keys could grow), and the error names the
spelling the client used. Enum names compare case-insensitively, as the public API reads them
(its own examples write ``"thinking_level": "low"``). Fields a spec does not list pass untouched.
Type errors read as everywhere else (:func:`fields.wrong_type`); wrong values read
``Invalid value at '<path>': ...`` like the rest of the Gemini door.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from gptgate.errors import RequestError
from gptgate.protocols import checks as c
from gptgate.protocols import fields as f
from gptgate.protocols.gemini import keys as k
from gptgate.types import JSONObject

Check = c.Check
Spec = Mapping[str, Check]
#: A spec keyed by both spellings of each name (made by :func:`fields`).
Fields = dict[str, Check]

#: proto JSON ``bytes``: standard or URL-safe alphabet, padding optional.
_BASE64: Final = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
#: ``FunctionDeclaration.name`` (google-genai ``types.FunctionDeclaration``).
_FUNCTION_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,127}")


def invalid(path: str, detail: str) -> RequestError:
    return RequestError(f"Invalid value at '{path}': {detail}.", param=path, code="invalid_value")


def missing(path: str) -> RequestError:
    return RequestError(
        f"Missing required parameter: '{path}'.", param=path, code="missing_required_parameter"
    )


def fields(spec: Spec) -> Fields:
    return {spelling: rule for name, rule in spec.items() for spelling in (name, k.snake(name))}


def spellings(names: Iterable[str]) -> frozenset[str]:
    return frozenset(spelling for name in names for spelling in (name, k.snake(name)))


def check_message(obj: JSONObject, spec: Fields, path: str) -> None:
    """Each field of ``obj`` that ``spec`` documents passes its rule; ``path`` ends with ``.``
    (or is empty at the top)."""
    for key, value in obj.items():
        rule = spec.get(key)
        if rule is not None and value is not None:
            rule(value, path + key)


def message(spec: Spec, *required: str) -> Check:
    """A nested message: an object whose documented fields are checked; ``required`` fields
    (camelCase) must be present under one spelling."""

    both = fields(spec)

    def rule(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise f.wrong_type(path, "an object", value)
        check_message(value, both, path + ".")
        for name in required:
            if k.pick(value, name)[1] is None:
                raise missing(f"{path}.{name}")

    return rule


def enum(*names: str) -> Check:
    """A proto enum by name, case-insensitively; an unspecified value is one of ``names``."""
    allowed = frozenset(n.upper() for n in names)

    def rule(value: Any, path: str) -> None:
        if not isinstance(value, str):
            raise f.wrong_type(path, "a string", value)
        if value.upper() not in allowed:
            raise invalid(path, f"'{value[:60]}' is not one of {', '.join(names)}")

    return rule


def ranged(low: float, high: float) -> Check:
    def rule(value: Any, path: str) -> None:
        c.NUM(value, path)
        if not low <= value <= high:
            raise invalid(path, f"{value:g} is out of range; the supported range is {low:g} to {high:g}")

    return rule


def at_least(low: int) -> Check:
    def rule(value: Any, path: str) -> None:
        c.INT(value, path)
        if value < low:
            raise invalid(path, f"{value} is out of range; it must be at least {low}")

    return rule


def int64(value: Any, path: str) -> None:
    """Proto JSON writes int64 as a string (``"8192"``); a number is accepted too."""
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return
    c.INT(value, path)


def base64_bytes(value: Any, path: str) -> None:
    """A ``bytes`` field: base64 text in either alphabet."""
    if not isinstance(value, str):
        raise f.wrong_type(path, "a string", value)
    if _BASE64.fullmatch(value) is None or len(value.rstrip("=")) % 4 == 1:
        raise invalid(path, "not valid base64 data")


def function_name(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise f.wrong_type(path, "a string", value)
    if _FUNCTION_NAME.fullmatch(value) is None:
        raise invalid(
            path,
            f"invalid function name '{value[:140]}'. Must start with a letter or an underscore. "
            "Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, "
            "with a maximum length of 128",
        )


STR: Final = c.STR
BOOL: Final = c.BOOL
INT: Final = c.INT
NUM: Final = c.NUM
OBJ: Final = c.OBJ
list_of = c.list_of
map_of = c.map_of
