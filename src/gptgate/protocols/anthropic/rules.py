"""The Anthropic door's own check combinators, composed from :mod:`gptgate.protocols.checks`:
objects with required fields, unions told apart by their ``type``, patterned strings.

Each rule reads the value where it lies (no copies) and raises the 400 naming the field path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

from gptgate.errors import RequestError
from gptgate.protocols import checks as c
from gptgate.protocols import fields as f

NO_FIELDS: Final[c.Spec] = {}


def missing(path: str) -> RequestError:
    return RequestError(
        f"Missing required parameter: '{path}'.", param=path, code="missing_required_parameter"
    )


def invalid(path: str, detail: str) -> RequestError:
    return RequestError(f"Invalid value for '{path}': {detail}.", param=path, code="invalid_value")


#: Rules a field passes by its exact JSON type alone: checked inline, without a call.
_PLAIN: Final[dict[c.Check, type]] = {c.STR: str, c.BOOL: bool, c.OBJ: dict}
#: Enum rules made by :func:`one_of`, by their allowed strings (checked inline as well).
_CHOICES: dict[c.Check, frozenset[str]] = {}


def one_of(*allowed: str) -> c.Check:
    """:func:`checks.enum`, whose right values :func:`shape` accepts without calling it."""
    rule = c.enum(*allowed)
    _CHOICES[rule] = frozenset(allowed)
    return rule


def _fields(required: c.Spec, optional: c.Spec) -> Callable[[dict[str, Any], str], None]:
    """Checks an object's fields: one pass over the fields it has; a path is built only for a
    field whose rule must run (a plain string, boolean or enum value that is right needs none)."""
    rules = {**optional, **required}
    plain = {key: _PLAIN[rule] for key, rule in rules.items() if rule in _PLAIN}
    choices = {key: _CHOICES[rule] for key, rule in rules.items() if rule in _CHOICES}

    def check(value: dict[str, Any], path: str) -> None:
        for key in required:
            if value.get(key) is None:
                raise missing(f"{path}.{key}")
        for key, field in value.items():
            kind = type(field)
            if plain.get(key) is kind or (kind is str and field in choices.get(key, ())):
                continue
            rule = rules.get(key)
            if rule is not None and field is not None:
                rule(field, f"{path}.{key}")

    return check


def shape(required: c.Spec = NO_FIELDS, optional: c.Spec = NO_FIELDS) -> c.Check:
    """An object whose ``required`` fields must be there and whose ``optional`` ones, when
    present, pass their checks; other fields pass untouched."""
    fields = _fields(required, optional)

    def rule(value: Any, path: str) -> None:
        c.OBJ(value, path)
        fields(value, path)

    return rule


def by_type(
    variants: Mapping[str, c.Check],
    *,
    default: str | None = None,
    unchecked: Collection[str] = (),
    open_ended: bool = False,
) -> c.Check:
    """An object whose ``type`` picks its variant (``type`` missing: ``default``, else a 400).

    A type in ``unchecked`` is documented but left to the decoder; any other unknown type is a
    400 naming ``type``, unless ``open_ended`` (the decoder then says what it cannot serve)."""
    documented = ", ".join(f"'{kind}'" for kind in (*variants, *unchecked))

    def rule(value: Any, path: str) -> None:
        c.OBJ(value, path)
        kind = value.get("type")
        if kind is None:
            if default is None:
                raise missing(path + ".type")
            kind = default
        elif not isinstance(kind, str):
            raise f.wrong_type(path + ".type", "a string", kind)
        variant = variants.get(kind)
        if variant is not None:
            variant(value, path)
        elif not open_ended and kind not in unchecked:
            raise invalid(path + ".type", f"'{kind[:60]}' is not one of {documented}")

    return rule


def variant(required: c.Spec = NO_FIELDS, optional: c.Spec = NO_FIELDS) -> c.Check:
    """One member of a :func:`by_type` union (already known to be an object)."""
    return _fields(required, optional)


def strings(value: Any, path: str) -> None:
    """``list[str]``, at the speed of one ``all`` when it is right."""
    if not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        _STRINGS(value, path)


_STRINGS: Final = c.list_of(c.STR)


def text_or_list(item: c.Check, expected: str) -> c.Check:
    """``str | list[item]`` (message content, ``system``, tool results)."""
    items = c.list_of(item)

    def rule(value: Any, path: str) -> None:
        if isinstance(value, str):
            return
        if not isinstance(value, list):
            raise f.wrong_type(path, expected, value)
        items(value, path)

    return rule


def str_or_obj(spec: c.Check) -> c.Check:
    """``str | {...}`` (``container``: an id or a container object)."""

    def rule(value: Any, path: str) -> None:
        if isinstance(value, dict):
            spec(value, path)
        elif not isinstance(value, str):
            raise f.wrong_type(path, "a string or an object", value)

    return rule


def matching(pattern: str) -> c.Check:
    compiled = re.compile(pattern)

    def rule(value: Any, path: str) -> None:
        c.STR(value, path)
        if compiled.fullmatch(value) is None:
            raise invalid(path, f"'{value[:60]}' does not match the pattern '{pattern}'")

    return rule
