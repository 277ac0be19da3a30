"""OpenAI's 400 envelope as the Chat and Responses doors answer it (the exact wire the tests expect)."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson


def envelope(message: str, param: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def missing(param: str) -> dict[str, Any]:
    return envelope(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def wrong(param: str, expected: str, got: str) -> dict[str, Any]:
    return envelope(f"Invalid type for '{param}': expected {expected}, but got {got}.", param, None)


def invalid(param: str, detail: str) -> dict[str, Any]:
    return envelope(f"Invalid value for '{param}': {detail}.", param, "invalid_value")


async def answer(base: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST ``body`` as JSON; the status and the parsed answer."""
    async with aiohttp.ClientSession() as http, http.post(base + path, data=orjson.dumps(body)) as resp:
        return resp.status, await resp.json()
