"""The admin API's error, and its one outward form: ``{"error": {"message", "type", "code"}}``."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web


class AdminError(Exception):
    """An admin API failure; ``message`` is safe to show (no secret ever goes in it)."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        code: str = "invalid_request",
        type_: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.type = type_
        self.headers = headers or {}

    def response(self) -> web.Response:
        body = {"error": {"message": self.message, "type": self.type, "code": self.code}}
        return json_reply(body, self.status, self.headers)


def unauthorized(message: str = "Sign in to the admin console, or send the admin token.") -> AdminError:
    return AdminError(message, 401, "admin_auth_required", "authentication_error")


def not_found(message: str) -> AdminError:
    return AdminError(message, 404, "not_found", "not_found_error")


def json_reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    all_headers = {"Cache-Control": "no-store", **(headers or {})}
    return web.Response(
        body=orjson.dumps(data), status=status, headers=all_headers, content_type="application/json"
    )


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (an empty body is ``{}``)."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise AdminError("The body is not valid JSON.", code="invalid_json") from exc
    if not isinstance(value, dict):
        raise AdminError("The body must be a JSON object.", code="invalid_json")
    return value
