"""``POST /oauth/token``: the refresh-token grant with rotation (protocol §5.1), and the
``authorization_code`` grant that ends a device-code sign-in (``device_auth.py``).

A refresh token works once: it is exchanged for new id/access/refresh tokens; spending it
again answers 401 ``{"error":"invalid_grant","code":"refresh_token_reused"}``, an unknown or
revoked one ``refresh_token_invalidated`` (or the code it was revoked with). The access token a
refresh replaces keeps working until its ``exp`` (see ``logins.py``). For a deactivated account
the answer is 401 with ``error.code`` ``account_deactivated`` (the object-shaped error, which
the official client also parses; not in the protocol doc) and nothing is spent.

Every call is counted per account (``GET /_sim/stats``) and passes the auth delay and faults
(``auth_faults.py``). Seed tokens with ``SimulatorState.seed_accounts``, ``add_refresh_token``,
``POST /_sim/accounts`` or ``POST /_sim/refresh-tokens``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from gptgate.simulator.auth_faults import before_auth_call, drop_connection
from gptgate.simulator.device_auth import exchange_code
from gptgate.simulator.state import STATE_KEY, SimulatorState
from gptgate.simulator.tokens import CLIENT_ID
from gptgate.simulator.validate import ACCOUNT_DEACTIVATED


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


def _refused(fields: dict[str, Any]) -> web.Response | None:
    """The answer to a request that is not a refresh of this client (nothing counted), or None."""
    if fields.get("grant_type") != "refresh_token":
        return _json(400, {"error": "unsupported_grant_type"})
    if fields.get("client_id") != CLIENT_ID:
        return _json(401, {"error": "invalid_client", "error_description": "Unknown client_id"})
    return None


def deactivated_body() -> dict[str, Any]:
    error = {"message": ACCOUNT_DEACTIVATED, "type": "invalid_request_error", "code": "account_deactivated"}
    return {"error": error}


def _grant(state: SimulatorState, refresh_token: str, account: str | None) -> web.Response:
    """Spend ``refresh_token``: the new tokens, or the rejection; counts the outcome."""
    if account is not None and state.logins.is_deactivated(account):
        state.logins.count("refresh", account, "rejected")
        return _json(401, deactivated_body())
    status, login, result = state.rotate_refresh_token(refresh_token)
    if status != "ok" or login is None:
        state.logins.count("refresh", account, "rejected")
        return _json(401, {"error": "invalid_grant", "code": result})
    state.logins.count("refresh", account, "ok")
    access_token, id_token = state.logins.issue(login)
    lifetime = state.config.access_token_lifetime_s
    body = {
        "id_token": id_token,
        "access_token": access_token,
        "refresh_token": result,
        "expires_in": lifetime,
        "token_type": "Bearer",
    }
    return _json(200, body)


async def token_endpoint(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    raw = await request.read()
    fields = parse_form_or_json(raw, request.headers.get("content-type", ""))
    state.record(request.method, request.path, request.query_string, request.headers, fields)
    if fields is None:
        return _json(400, {"error": "invalid_request", "error_description": "Body must be JSON or a form"})
    if fields.get("grant_type") == "authorization_code":
        return exchange_code(request, fields)
    refused = _refused(fields)
    if refused is not None:
        return refused
    refresh_token = str(fields.get("refresh_token") or "")
    account = state.logins.account_of_refresh(refresh_token)
    state.logins.count("refresh", account)
    replaced, drop = await before_auth_call(request, state)
    if replaced is not None:
        state.logins.count("refresh", account, "failed")
        return replaced
    response = _grant(state, refresh_token, account)
    if drop:
        state.logins.count("refresh", account, "failed")
        return drop_connection(request)
    return response
