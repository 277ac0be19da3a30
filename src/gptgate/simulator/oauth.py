"""``POST /oauth/token``: the refresh-token grant with rotation (protocol §5.1).

A refresh token works once: it is exchanged for new id/access/refresh tokens; spending it
again answers ``refresh_token_reused``, an unknown one ``refresh_token_invalidated``.
Seed tokens with ``SimulatorState.add_refresh_token`` or ``POST /_sim/refresh-tokens``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from gptgate.simulator.state import STATE_KEY
from gptgate.simulator.tokens import CLIENT_ID, DEFAULT_LIFETIME_S, make_access_token, make_id_token


def _json(status: int, body: Any) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def parse_form_or_json(raw: bytes, content_type: str) -> dict[str, Any] | None:
    """The fields of a JSON or form-urlencoded body (None when it is neither)."""
    if "json" in content_type:
        try:
            value = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None
    try:
        return dict(parse_qsl(raw.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        return None


async def token_endpoint(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    raw = await request.read()
    fields = parse_form_or_json(raw, request.headers.get("content-type", ""))
    state.record(request.method, request.path, request.query_string, request.headers, fields)
    if fields is None:
        return _json(400, {"error": "invalid_request", "error_description": "Body must be JSON or a form"})
    if fields.get("grant_type") != "refresh_token":
        return _json(400, {"error": "unsupported_grant_type"})
    if fields.get("client_id") != CLIENT_ID:
        return _json(401, {"error": "invalid_client", "error_description": "Unknown client_id"})
    status, record, new_token = state.rotate_refresh_token(str(fields.get("refresh_token") or ""))
    if status == "reused":
        return _json(401, {"error": "invalid_grant", "code": "refresh_token_reused"})
    if record is None or new_token is None:
        return _json(401, {"error": "invalid_grant", "code": "refresh_token_invalidated"})
    exp = int(state.now()) + DEFAULT_LIFETIME_S
    tokens = {
        "id_token": make_id_token(record.account_id, plan=record.plan, exp=exp, email=record.email),
        "access_token": make_access_token(record.account_id, plan=record.plan, exp=exp, email=record.email),
        "refresh_token": new_token,
        "expires_in": DEFAULT_LIFETIME_S,
        "token_type": "Bearer",
    }
    return _json(200, tokens)
