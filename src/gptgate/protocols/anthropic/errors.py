"""The Anthropic error envelope: ``{"type":"error","error":{"type","message"},"request_id"}``.

Types by status as the Messages API documents them; the same body is the payload of an
in-stream ``event: error``.
"""

from __future__ import annotations

from typing import Final

import orjson
from aiohttp import web

from gptgate.errors import GatewayError, UpstreamUnavailable
from gptgate.http import unique_hex
from gptgate.types import JSONObject

TYPES: Final = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_type(error: GatewayError) -> str:
    """By status; a transient upstream failure reads ``overloaded_error`` (clients retry it)."""
    if isinstance(error, UpstreamUnavailable):
        return "overloaded_error"
    return TYPES.get(error.status, "invalid_request_error" if error.status < 500 else "api_error")


def error_body(error: GatewayError, request_id: str | None = None) -> JSONObject:
    return {
        "type": "error",
        "error": {"type": error_type(error), "message": error.message},
        "request_id": request_id or "req_" + unique_hex(),
    }


def error_response(error: GatewayError) -> web.Response:
    body = error_body(error)
    headers = {**error.headers, "request-id": body["request_id"]}
    if error.retry_after is not None:
        headers["retry-after"] = headers.pop("Retry-After", "1")
    return web.Response(
        body=orjson.dumps(body), status=error.status, headers=headers, content_type="application/json"
    )
