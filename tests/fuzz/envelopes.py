"""Each door's error envelope, as its SDK parses it."""

from __future__ import annotations

from typing import Any, Literal

import orjson

Door = Literal["openai", "anthropic", "gemini"]


def error_of(door: Door, body: bytes) -> dict[str, Any]:
    """The error object of a 4xx/5xx body in ``door``'s envelope (asserting its shape)."""
    data = orjson.loads(body)
    if door == "openai":
        assert set(data) == {"error"}, data
        assert {"message", "type", "param", "code"} <= set(data["error"]), data
    elif door == "anthropic":
        assert data.get("type") == "error", data
        assert {"type", "message"} <= set(data["error"]), data
    else:
        assert set(data) == {"error"}, data
        assert {"code", "message", "status"} <= set(data["error"]), data
    err: dict[str, Any] = data["error"]
    assert isinstance(err["message"], str) and err["message"]
    return err
