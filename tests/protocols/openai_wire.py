"""OpenAI's 400 envelope as the Chat and Responses doors answer it (the exact wire the tests expect)."""

from __future__ import annotations

from typing import Any


def envelope(message: str, param: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def missing(param: str) -> dict[str, Any]:
    return envelope(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def wrong(param: str, expected: str, got: str) -> dict[str, Any]:
    return envelope(f"Invalid type for '{param}': expected {expected}, but got {got}.", param, None)


def invalid(param: str, detail: str) -> dict[str, Any]:
    return envelope(f"Invalid value for '{param}': {detail}.", param, "invalid_value")
