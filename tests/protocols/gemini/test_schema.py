"""Gemini's OpenAPI-subset Schema -> JSON Schema."""

from __future__ import annotations

import pytest

from gptgate.errors import RequestError
from gptgate.protocols.gemini.schema import to_json_schema


def test_types_are_lower_cased_recursively() -> None:
    schema = {
        "type": "OBJECT",
        "description": "args",
        "properties": {
            "name": {"type": "STRING", "format": "email", "pattern": "^.+@.+$"},
            "tags": {
                "type": "ARRAY",
                "items": {"type": "STRING", "enum": ["a", "b"]},
                "minItems": "1",
                "max_items": 3,
            },
            "nested": {
                "type": "OBJECT",
                "properties": {"x": {"type": "NUMBER", "minimum": 0}},
                "required": ["x"],
            },
            "choice": {"anyOf": [{"type": "INTEGER"}, {"type": "BOOLEAN"}]},
        },
        "required": ["name"],
        "propertyOrdering": ["name", "tags", "nested", "choice"],
    }
    assert to_json_schema(schema, "parameters") == {
        "type": "object",
        "description": "args",
        "properties": {
            "name": {"type": "string", "format": "email", "pattern": "^.+@.+$"},
            "tags": {
                "type": "array",
                "items": {"type": "string", "enum": ["a", "b"]},
                "minItems": 1,
                "maxItems": 3,
            },
            "nested": {
                "type": "object",
                "properties": {"x": {"type": "number", "minimum": 0}},
                "required": ["x"],
            },
            "choice": {"anyOf": [{"type": "integer"}, {"type": "boolean"}]},
        },
        "required": ["name"],
    }


def test_nullable_adds_null_to_the_type_and_enum() -> None:
    assert to_json_schema({"type": "STRING", "nullable": True, "enum": ["a"]}, "s") == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    assert to_json_schema({"type": "INTEGER", "nullable": False}, "s") == {"type": "integer"}


def test_unspecified_type_is_dropped_and_extras_are_mapped() -> None:
    schema = {
        "type": "TYPE_UNSPECIFIED",
        "example": {"a": 1},
        "title": "T",
        "default": 3,
        "any_of": [{"type": "STRING"}],
        "additionalProperties": {"type": "STRING"},
        "defs": {"D": {"type": "OBJECT"}},
        "ref": "#/$defs/D",
        "property_ordering": ["a"],
    }
    assert to_json_schema(schema, "s") == {
        "examples": [{"a": 1}],
        "title": "T",
        "default": 3,
        "anyOf": [{"type": "string"}],
        "additionalProperties": {"type": "string"},
        "$defs": {"D": {"type": "object"}},
        "$ref": "#/$defs/D",
    }


def test_property_names_are_never_rewritten() -> None:
    schema = {"type": "OBJECT", "properties": {"max_items": {"type": "STRING"}, "type": {"type": "STRING"}}}
    assert to_json_schema(schema, "s")["properties"] == {
        "max_items": {"type": "string"},
        "type": {"type": "string"},
    }


@pytest.mark.parametrize(
    ("schema", "param"),
    [
        ({"type": "STRANGE"}, "p.type"),
        ({"type": 3}, "p.type"),
        ({"properties": {"a": {"type": "NOPE"}}}, "p.properties.a.type"),
        ({"items": "STRING"}, "p.items"),
        ({"minItems": "x"}, "p.minItems"),
    ],
)
def test_bad_schemas_name_the_field(schema: dict[str, object], param: str) -> None:
    with pytest.raises(RequestError) as info:
        to_json_schema(schema, "p")
    assert info.value.param == param
