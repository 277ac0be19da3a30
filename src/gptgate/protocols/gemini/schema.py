"""Gemini's OpenAPI-subset ``Schema`` -> JSON Schema (tool parameters, structured output).

Gemini writes types in upper case (``OBJECT``, ``STRING``), says ``nullable: true`` where JSON
Schema lists ``"null"`` among the types, sends int64 bounds as strings (``"minItems": "1"``) and
adds ``propertyOrdering``, which JSON Schema does not know. Keys may be snake_case (proto JSON).
Everything else (``description``, ``enum``, ``format``, ``pattern``, bounds...) is the same in
both and passes through.
"""

from __future__ import annotations

from typing import Any, Final

from gptgate.errors import RequestError
from gptgate.protocols import checks as c
from gptgate.protocols import fields as f
from gptgate.protocols.checks import Check
from gptgate.protocols.gemini.keys import snake
from gptgate.types import JSONObject

TYPES: Final = {
    "string": "string",
    "number": "number",
    "integer": "integer",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
    "null": "null",
}
UNSPECIFIED: Final = "type_unspecified"
#: int64 in the proto, so proto JSON may send them as strings.
INT_KEYS: Final = frozenset(
    {"minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"}
)
DROPPED: Final = frozenset({"propertyOrdering"})
#: The other documented keywords (google-genai ``types.Schema``), typed; they pass through as is.
TYPED: Final[dict[str, Check]] = {
    "description": c.STR,
    "title": c.STR,
    "format": c.STR,
    "pattern": c.STR,
    "enum": c.list_of(c.STR),
    "required": c.list_of(c.STR),
    "propertyOrdering": c.list_of(c.STR),
    "minimum": c.NUM,
    "maximum": c.NUM,
    "nullable": c.BOOL,
}
SCHEMA_LISTS: Final = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
SCHEMA_MAPS: Final = frozenset({"properties", "$defs", "defs"})
#: Proto-JSON snake_case spellings of the schema keywords that have one.
SNAKE_KEYS: Final = {snake(k): k for k in (*INT_KEYS, "anyOf", "propertyOrdering", "additionalProperties")}


def to_json_schema(schema: Any, path: str) -> JSONObject:
    """Convert one schema and, recursively, every schema inside it. ``path`` names it in errors."""
    obj = f.as_obj(schema, path)
    out: JSONObject = {}
    nullable = False
    for raw_key, value in obj.items():
        key = SNAKE_KEYS.get(raw_key, raw_key)
        where = f"{path}.{raw_key}"
        rule = TYPED.get(key)
        if rule is not None and value is not None:
            rule(value, where)
        if key == "type":
            kind = _type(value, where)
            if kind is not None:
                out["type"] = kind
        elif key == "nullable":
            nullable = value is True
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = to_json_schema(value, where)
        elif key in SCHEMA_LISTS:
            values = value if isinstance(value, list) else [value]
            out[key] = [to_json_schema(v, f"{where}[{i}]") for i, v in enumerate(values)]
        elif key in SCHEMA_MAPS:
            props = f.as_obj(value, where)
            out["$defs" if key == "defs" else key] = {
                name: to_json_schema(sub, f"{where}.{name}") for name, sub in props.items()
            }
        elif key == "ref":
            out["$ref"] = value
        elif key in INT_KEYS:
            out[key] = _int(value, where)
        elif key == "example":
            out.setdefault("examples", [value])
        elif key not in DROPPED:
            out[key] = value
    if nullable:
        _make_nullable(out)
    return out


def _type(value: Any, path: str) -> str | list[str] | None:
    if isinstance(value, list):
        kinds = [_type(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return [k for k in kinds if isinstance(k, str)]
    if not isinstance(value, str):
        raise f.wrong_type(path, "a string", value)
    name = value.lower()
    if name == UNSPECIFIED:
        return None
    kind = TYPES.get(name)
    if kind is None:
        raise RequestError(f"Invalid value at '{path}': unknown schema type '{value}'.", param=path)
    return kind


def _int(value: Any, path: str) -> int:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise f.wrong_type(path, "an integer", value)


def _make_nullable(out: JSONObject) -> None:
    kind = out.get("type")
    if isinstance(kind, str) and kind != "null":
        out["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        out["type"] = [*kind, "null"]
    enum = out.get("enum")
    if isinstance(enum, list) and None not in enum:
        out["enum"] = [*enum, None]
