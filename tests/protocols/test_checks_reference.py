"""``checks``' rules against their reference (the rules as they were before their fast type tests,
issue 12): for any value, the same pass or the same error (message, param, code)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gptgate.errors import RequestError
from gptgate.protocols import checks as c
from gptgate.protocols import fields as f
from gptgate.types import JSONObject
from tests.protocols.reference_check import ref_check


def ref_ranged(low: float, high: float) -> c.Check:
    def rule(value: Any, path: str) -> None:
        c.NUM(value, path)
        if not low <= value <= high:
            raise c._invalid(path, f"expected a number between {low:g} and {high:g}, but got {value:g}")

    return rule


def ref_at_least(low: int) -> c.Check:
    def rule(value: Any, path: str) -> None:
        c.INT(value, path)
        if value < low:
            raise c._invalid(path, f"expected an integer of at least {low}, but got {value}")

    return rule


def ref_enum(*allowed: str) -> c.Check:
    def rule(value: Any, path: str) -> None:
        c.STR(value, path)
        if value not in allowed:
            choices = ", ".join(f"'{a}'" for a in allowed)
            raise c._invalid(path, f"'{c._clip(value)}' is not one of {choices}")

    return rule


def ref_list_of(item: c.Check, max_items: int | None = None) -> c.Check:
    def rule(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise f.wrong_type(path, "an array", value)
        if max_items is not None and len(value) > max_items:
            raise c._invalid(path, f"expected at most {max_items} items, but got {len(value)}")
        for i, element in enumerate(value):
            if element is None:
                raise f.wrong_type(f"{path}[{i}]", "a value", element)
            item(element, f"{path}[{i}]")

    return rule


def ref_map_of(value_rule: c.Check) -> c.Check:
    def rule(value: Any, path: str) -> None:
        c.OBJ(value, path)
        for key, element in value.items():
            value_rule(element, f"{path}.{key}")

    return rule


def ref_nested(spec: c.Spec) -> c.Check:
    def rule(value: Any, path: str) -> None:
        c.OBJ(value, path)
        ref_check(value, spec, path + ".")

    return rule


def specs(new: bool) -> c.Spec:
    """The same table built from the current factories or from the reference ones."""
    ranged, at_least, enum = (c.ranged, c.at_least, c.enum) if new else (ref_ranged, ref_at_least, ref_enum)
    list_of, map_of, nested = (
        (c.list_of, c.map_of, c.nested) if new else (ref_list_of, ref_map_of, ref_nested)
    )
    inner = {"s": c.STR, "b": c.BOOL, "e": enum("low", "high")}
    return {
        "str": c.STR,
        "bool": c.BOOL,
        "int": c.INT,
        "num": c.NUM,
        "obj": c.OBJ,
        "ranged": ranged(-2, 2),
        "at_least": at_least(1),
        "enum": enum("a", "b"),
        "strs": list_of(c.STR, max_items=3),
        "ints": list_of(c.INT),
        "enums": list_of(enum("a", "b")),
        "map": map_of(c.STR),
        "bias": map_of(ranged(-100, 100)),
        "nested": nested(inner),
        "deep": nested({"n": nested(inner), "l": list_of(nested(inner))}),
    }


NEW, REF = specs(True), specs(False)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-200, 200),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-300, max_value=300),
    st.sampled_from(["", "a", "b", "low", "high", "x" * 70]),
)
VALUE = st.recursive(
    LEAF,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["s", "b", "e", "n", "l", "k"]), inner, max_size=4)
    ),
    max_leaves=10,
)


def outcome(checker: Any, body: JSONObject, spec: c.Spec) -> Any:
    try:
        checker(body, spec)
    except RequestError as exc:
        return exc.message, exc.param, exc.code
    return None


@settings(max_examples=3000, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(NEW), "other"]), VALUE, max_size=6))
def test_every_rule_passes_and_fails_as_the_reference_does(body: JSONObject) -> None:
    assert outcome(c.check, body, NEW) == outcome(ref_check, body, REF)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({key: VALUE for key in sorted(NEW)}))
def test_a_body_as_large_as_the_spec_is_walked_in_the_spec_order_as_before(body: JSONObject) -> None:
    assert outcome(c.check, body, NEW) == outcome(ref_check, body, REF)


@settings(max_examples=1000, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(NEW), "other", "extra"]), VALUE, max_size=8))
def test_walk_checks_as_check_does_and_gathers_the_fields_not_the_doors(body: JSONObject) -> None:
    marks = {"str": 1, "bool": 2, "nested": 4, "other": 8}
    walked_as_check(body, c.table(NEW, marks), marks)


#: one table for every example: the shapes seen before are walked by their plan
SHARED_MARKS = {"str": 1, "bool": 2, "nested": 4, "other": 8}
SHARED_FIELDS = c.table(NEW, SHARED_MARKS)


@settings(max_examples=1000, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(NEW), "other", "extra"]), VALUE, max_size=4))
def test_a_shape_seen_before_is_walked_by_its_plan_as_the_first_was(body: JSONObject) -> None:
    walked_twice(body)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({key: VALUE for key in sorted(NEW)}))
def test_a_body_as_large_as_the_spec_is_walked_by_its_plan_in_the_spec_order(body: JSONObject) -> None:
    walked_twice(body)


def walked_twice(body: JSONObject) -> None:
    for _ in range(2):  # the first walk of a new shape makes its plan, the second follows it
        walked_as_check(body, SHARED_FIELDS, SHARED_MARKS)


def walked_as_check(body: JSONObject, fields: c.Fields, marks: dict[str, int]) -> None:
    """``walk`` refuses what the reference ``check`` refuses, with the same error, and else
    gathers the marks of the fields present and everything else as extras, in body order."""
    expected = outcome(ref_check, body, REF)
    try:
        found, extras = c.walk(body, NEW, fields)
    except RequestError as exc:
        assert (exc.message, exc.param, exc.code) == expected
        return
    assert expected is None
    assert found == sum({marks[k] for k, v in body.items() if k in marks and v is not None})
    assert list(extras.items()) == [(k, v) for k, v in body.items() if k not in marks]
