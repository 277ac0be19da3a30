"""Errors on Codex-native routes, in the shapes Codex CLI reads.

A spent pool (every account at its usage limit) is the backend's own usage-limit 429
(codex-backend.md §4.1): ``{"error": {"type": "usage_limit_reached", "message", "plan_type",
"resets_at", "resets_in_seconds"}}``, which Codex shows as "You've hit your usage limit … try
again at <time>" and does not retry. An unknown path is the backend's FastAPI-style 404
``{"detail": "Not Found"}``. Everything else is OpenAI's envelope, which Codex shows verbatim.
"""

from __future__ import annotations

import math
import time

import orjson
from aiohttp import web

from gptgate.errors import GatewayError, NotFoundError, PoolExhausted, UsageLimitReached
from gptgate.protocols import openai_errors
from gptgate.types import JSONObject

PLAN = "pro"


def error_body(error: GatewayError, now: float | None = None) -> JSONObject:
    if isinstance(error, PoolExhausted | UsageLimitReached) and error.status == 429:
        now = time.time() if now is None else now
        wait = max(1, math.ceil(error.retry_after or 60))
        return {
            "error": {
                "type": "usage_limit_reached",
                "message": error.message,
                "plan_type": PLAN,
                "resets_at": int(now) + wait,
                "resets_in_seconds": wait,
            }
        }
    if isinstance(error, NotFoundError) and error.code in ("not_found", "models_not_reported"):
        return {"detail": "Not Found"}
    return openai_errors.error_body(error)


def error_response(error: GatewayError) -> web.Response:
    return web.Response(
        body=orjson.dumps(error_body(error)),
        status=error.status,
        headers=error.headers,
        content_type="application/json",
    )
