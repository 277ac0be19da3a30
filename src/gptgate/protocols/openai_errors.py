"""The OpenAI error envelope (Chat Completions, Responses, models): ``{"error": {...}}``."""

from __future__ import annotations

import orjson
from aiohttp import web

from gptgate.errors import GatewayError
from gptgate.types import JSONObject


def error_body(error: GatewayError) -> JSONObject:
    return {"error": {"message": error.message, "type": error.type, "param": error.param, "code": error.code}}


def error_response(error: GatewayError) -> web.Response:
    return web.Response(
        body=orjson.dumps(error_body(error)),
        status=error.status,
        headers=error.headers,
        content_type="application/json",
    )
