"""Smallest deterministic JSON value that satisfies a JSON Schema (the subset tools and
``text.format`` use: type, enum, const, required, items, minItems, anyOf/oneOf/allOf, local $ref).
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 12


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _type_of(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None and "properties" in schema:
        return "object"
    return kind if isinstance(kind, str) else None


def _object(schema: dict[str, Any], root: dict[str, Any], depth: int) -> dict[str, Any]:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = schema.get("required")
    names = required if isinstance(required, list) else []
    return {name: minimal_instance(properties.get(name, {}), root, depth + 1) for name in names}


def _array(schema: dict[str, Any], root: dict[str, Any], depth: int) -> list[Any]:
    count = schema.get("minItems", 0)
    items = schema.get("items")
    if not isinstance(count, int) or count <= 0:
        return []
    return [minimal_instance(items if isinstance(items, dict) else {}, root, depth + 1)] * count


def _scalar(kind: str | None, schema: dict[str, Any]) -> Any:
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        value = (low if isinstance(low, int | float) else 0) + (1 if "exclusiveMinimum" in schema else 0)
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    length = schema.get("minLength", 0)
    return "sim" if not isinstance(length, int) or length <= 3 else "s" * length


def minimal_instance(schema: Any, root: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A value valid against ``schema``: required properties only, first enum value, etc."""
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            return minimal_instance(options[0], root, depth + 1)
    kind = _type_of(schema)
    if kind == "object":
        return _object(schema, root, depth)
    if kind == "array":
        return _array(schema, root, depth)
    return _scalar(kind, schema)
