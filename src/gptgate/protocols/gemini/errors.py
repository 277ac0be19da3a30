"""The Gemini (Google API) error envelope: ``{"error":{"code","message","status","details"}}``."""

from __future__ import annotations

import math
from typing import Final

import orjson
from aiohttp import web

from gptgate.errors import GatewayError
from gptgate.types import JSONObject

STATUSES: Final = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
ERROR_INFO: Final = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO: Final = "type.googleapis.com/google.rpc.RetryInfo"


def error_body(error: GatewayError) -> JSONObject:
    details: list[JSONObject] = [
        {"@type": ERROR_INFO, "reason": (error.code or error.type).upper(), "domain": "gptgate"}
    ]
    if error.retry_after is not None:
        details.append({"@type": RETRY_INFO, "retryDelay": f"{max(1, math.ceil(error.retry_after))}s"})
    return {
        "error": {
            "code": error.status,
            "message": error.message,
            "status": STATUSES.get(error.status, "INVALID_ARGUMENT" if error.status < 500 else "INTERNAL"),
            "details": details,
        }
    }


def error_response(error: GatewayError) -> web.Response:
    return web.Response(
        body=orjson.dumps(error_body(error)),
        status=error.status,
        headers=error.headers,
        content_type="application/json",
    )
