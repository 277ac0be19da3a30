"""Declarative checks of documented fields: each door lists its API's documented parameters
with their types, ranges and enums, and :func:`check` enforces them with the message the real
API would give (naming the field), while unknown fields pass untouched.

A door's table is the SDK's type definition written down once (``openai``, ``anthropic``,
``google-genai`` packages); a field the gateway only relays still gets its type checked, so a
``frequency_penalty: "7"`` is a 400 here as it is there, not a silent 200.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from gptgate.errors import RequestError
from gptgate.protocols import fields as f
from gptgate.types import JSONObject

#: ``check(value, path)``: raises a RequestError naming ``path`` when ``value`` is wrong.
Check = Callable[[Any, str], None]
Spec = Mapping[str, Check]


def check(body: JSONObject, spec: Spec, path: str = "") -> None:
    """Every field of ``spec`` present (and not null) in ``body`` passes its check. The smaller
    of the two is walked (a typical request names 4 of the 30-odd documented fields), so with
    several wrong fields the one reported first may be the body's first rather than the spec's.
    A plain type's rule is not called for a value of that very type (it would pass)."""
    if len(body) < len(spec):
        for key, value in body.items():
            if (
                value is not None
                and (rule := spec.get(key)) is not None
                and type(value) is not PLAIN.get(rule)
            ):
                rule(value, path + key)
        return
    for key, rule in spec.items():
        value = body.get(key)
        if value is not None and type(value) is not PLAIN.get(rule):
            rule(value, path + key)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def STR(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise f.wrong_type(path, "a string", value)


def BOOL(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise f.wrong_type(path, "a boolean", value)


def INT(value: Any, path: str) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool)):
        raise f.wrong_type(path, "an integer", value)


def NUM(value: Any, path: str) -> None:
    if not _is_number(value):
        raise f.wrong_type(path, "a number", value)


def OBJ(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise f.wrong_type(path, "an object", value)


#: the rules a value passes exactly when it has this type (``bool`` is not an ``int`` here)
PLAIN: Final[dict[Check, type]] = {STR: str, BOOL: bool, INT: int, OBJ: dict}


#: a door's top-level field for :func:`walk`: its rule (None: no documented type), the type
#: that surely passes the rule, and the door's marks for it (0: not the door's, relayed)
Entry = tuple[Check | None, type | None, int]
#: what :func:`walk` makes of a body with one set of keys, in one order, and no null value among
#: the door's fields: its marks, its extras' keys, the fields with a rule as ``(key, rule, plain
#: type)`` in the order :func:`check` has them, and the door's other fields
Plan = tuple[int, tuple[str, ...], tuple[tuple[str, Check, type | None], ...], tuple[str, ...]]
#: key orders remembered per door: clients send a handful; one that sends ever new keys gets
#: the full walk once this many are known, never a growing table
MAX_PLANS: Final = 256


class Fields(dict[str, Entry]):
    """A door's fields (``table``), and the plans of the key orders its clients have sent."""

    __slots__ = ("plans",)

    def __init__(self) -> None:
        super().__init__()
        self.plans: dict[tuple[str, ...], Plan] = {}


def table(spec: Spec, marks: Mapping[str, int]) -> Fields:
    """A door's fields for :func:`walk`, made once at import: ``marks`` gives each field the door
    reads a non-zero mark (bits, so the door can tell which of its sections a body touches)."""
    fields = Fields()
    for key in {*spec, *marks}:
        rule = spec.get(key)
        fields[key] = (rule, None if rule is None else PLAIN.get(rule), marks.get(key, 0))
    return fields


def walk(body: JSONObject, spec: Spec, fields: Fields) -> tuple[int, JSONObject]:
    """:func:`check` of a request's top level, in the one pass over its keys that also ORs the
    marks of the door's fields present (not null) and gathers the fields not its own (null
    ones too) as extras. ``fields`` is ``table(spec, marks)``; errors are :func:`check`'s, in
    the same order.

    A client sends the same keys on every request: what follows from the keys alone (the marks,
    which keys are extras, which have a rule) is worked out on the first body with them and
    kept, so a later one only looks at the values of the door's fields. One of them null (not
    marked, not checked) sends the body the full way; the rules run before are run again
    there, and as none of them failed, the first error is the same."""
    keys = tuple(body)
    plan = fields.plans.get(keys)
    if plan is None:
        return _walk(body, spec, fields, keys)
    marks, extra_keys, rules, others = plan
    for key, rule, plain in rules:
        value = body[key]
        if type(value) is not plain:
            if value is None:
                return _walk(body, spec, fields, keys)
            rule(value, key)
    for key in others:
        if body[key] is None:
            return _walk(body, spec, fields, keys)
    if not extra_keys:
        return marks, {}
    return marks, {key: body[key] for key in extra_keys}


def _walk(body: JSONObject, spec: Spec, fields: Fields, keys: tuple[str, ...]) -> tuple[int, JSONObject]:
    checked = len(body) >= len(spec)
    if checked:
        check(body, spec)  # walked in the spec's order, as check has it
    marks = 0
    extras: JSONObject = {}
    nulls = False
    for key, value in body.items():
        entry = fields.get(key)
        if entry is None:
            extras[key] = value
            continue
        rule, plain, mark = entry
        if not mark:
            extras[key] = value
        if value is None:
            nulls = nulls or bool(mark) or rule is not None
            continue
        if rule is not None and not checked and type(value) is not plain:
            rule(value, key)
        marks |= mark
    if not nulls and len(fields.plans) < MAX_PLANS:
        fields.plans[keys] = _plan(body, spec, fields, marks, tuple(extras))
    return marks, extras


def _plan(body: JSONObject, spec: Spec, fields: Fields, marks: int, extra_keys: tuple[str, ...]) -> Plan:
    rules: list[tuple[str, Check, type | None]] = []
    others: list[str] = []
    for key in [key for key in spec if key in body] if len(body) >= len(spec) else body:
        entry = fields.get(key)
        if entry is not None and entry[0] is not None:
            rules.append((key, entry[0], entry[1]))
    for key in body:
        entry = fields.get(key)
        if entry is not None and entry[0] is None and entry[2]:
            others.append(key)
    return marks, extra_keys, tuple(rules), tuple(others)


def ranged(low: float, high: float) -> Check:
    def rule(value: Any, path: str) -> None:
        if type(value) is not int and type(value) is not float:
            NUM(value, path)
        if not low <= value <= high:
            raise _invalid(path, f"expected a number between {low:g} and {high:g}, but got {value:g}")

    return rule


def at_least(low: int) -> Check:
    def rule(value: Any, path: str) -> None:
        if type(value) is not int:
            INT(value, path)
        if value < low:
            raise _invalid(path, f"expected an integer of at least {low}, but got {value}")

    return rule


def enum(*allowed: str) -> Check:
    def rule(value: Any, path: str) -> None:
        if type(value) is str and value in allowed:
            return
        STR(value, path)
        if value not in allowed:
            choices = ", ".join(f"'{a}'" for a in allowed)
            raise _invalid(path, f"'{_clip(value)}' is not one of {choices}")

    return rule


def list_of(item: Check, max_items: int | None = None) -> Check:
    plain = PLAIN.get(item)

    def rule(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise f.wrong_type(path, "an array", value)
        if max_items is not None and len(value) > max_items:
            raise _invalid(path, f"expected at most {max_items} items, but got {len(value)}")
        for i, element in enumerate(value):
            if type(element) is plain:
                continue
            if element is None:
                raise f.wrong_type(f"{path}[{i}]", "a value", element)
            item(element, f"{path}[{i}]")

    return rule


def map_of(value_rule: Check) -> Check:
    plain = PLAIN.get(value_rule)

    def rule(value: Any, path: str) -> None:
        if type(value) is not dict:
            OBJ(value, path)
        for key, element in value.items():
            if type(element) is not plain:
                value_rule(element, f"{path}.{key}")

    return rule


class _Unplain:
    """No value has this type: a field whose rule has no plain type is never passed by its type."""


def nested(spec: Spec) -> Check:
    """An object whose own documented fields are checked too. One whose fields all have their
    rule's plain type (``stream_options: {"include_usage": true}``) passes without :func:`check`
    and the path it builds; anything else gets :func:`check`, and its errors."""
    plains = {key: PLAIN.get(rule, _Unplain) for key, rule in spec.items()}

    def rule(value: Any, path: str) -> None:
        if type(value) is not dict:
            OBJ(value, path)
        for key, element in value.items():
            plain = plains.get(key)
            if plain is not None and type(element) is not plain:
                check(value, spec, path + ".")
                return

    return rule


def either(*rules: Check, expected: str) -> Check:
    """The first rule whose shape matches decides (``str | list[str]``-style unions)."""

    def rule(value: Any, path: str) -> None:
        errors: list[RequestError] = []
        for candidate in rules:
            try:
                candidate(value, path)
                return
            except RequestError as exc:
                errors.append(exc)
        deeper = [e for e in errors if e.param != path]
        if deeper:
            raise deeper[0]
        raise f.wrong_type(path, expected, value)

    return rule


def json_text(value: Any, path: str) -> None:
    """A string that must itself hold JSON (a tool call's ``arguments``)."""
    STR(value, path)
    if value.strip() and not f.is_json(value):
        raise _invalid(path, "expected a string of valid JSON")


def _invalid(path: str, detail: str) -> RequestError:
    return RequestError(f"Invalid value for '{path}': {detail}.", param=path, code="invalid_value")


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
