"""``GET /api/auth/session``: a web session cookie → an access token (chatgpt-web §5.1).

The cookie is ``__Secure-next-auth.session-token=<value>``, or NextAuth's chunks
``…session-token.0``, ``.1``, … joined in order. A live session answers 200::

    {"user": {"id", "name", "email", "image", "picture", "groups"}, "expires": "<ISO date>",
     "account": {"id": <chatgpt account id>}, "accessToken": "<JWT>", "authProvider": "auth0"}

and sets a fresh session cookie (the old one keeps working until it expires). ``expires`` is the
session's expiry; the access token's own ``exp`` is in the JWT. An unknown, expired or
deactivated session answers 200 ``{}`` (signed out), as the real endpoint does. Calls are counted
per account and pass the auth delay and faults like ``/oauth/token``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from gptgate.simulator.auth_faults import before_auth_call, drop_connection
from gptgate.simulator.logins import Login
from gptgate.simulator.state import STATE_KEY, SimulatorState

SESSION_COOKIE = "__Secure-next-auth.session-token"


def session_cookie(cookies: Mapping[str, str]) -> str:
    """The session token from the cookies, joining NextAuth's ``.0``, ``.1``, … chunks."""
    if SESSION_COOKIE in cookies:
        return cookies[SESSION_COOKIE]
    chunks: list[str] = []
    while (chunk := cookies.get(f"{SESSION_COOKIE}.{len(chunks)}")) is not None:
        chunks.append(chunk)
    return "".join(chunks)


def iso_date(timestamp: float) -> str:
    """``2026-12-22T18:43:46.123Z`` (JavaScript's ``toISOString``)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def session_body(login: Login, access_token: str, expires_at: float) -> dict[str, Any]:
    name = login.email.split("@", 1)[0]
    picture = f"https://cdn.example.com/avatars/{login.user_id}.png"
    user = {
        "id": login.user_id,
        "name": name,
        "email": login.email,
        "image": picture,
        "picture": picture,
        "groups": [],
    }
    return {
        "user": user,
        "expires": iso_date(expires_at),
        "account": {"id": login.account_id},
        "accessToken": access_token,
        "authProvider": "auth0",
    }


def _signed_in(state: SimulatorState, token: str, account: str | None) -> web.Response:
    login = state.logins.session_login(token)
    if login is None:
        state.logins.count("session", account, "rejected")
        return web.Response(body=b"{}", content_type="application/json")
    state.logins.count("session", account, "ok")
    access_token, _ = state.logins.issue(login)
    fresh = state.logins.new_session_token(login.account_id)
    expires_at = state.logins.session_expires_at(fresh)
    body = orjson.dumps(session_body(login, access_token, expires_at))
    response = web.Response(body=body, content_type="application/json")
    expires = datetime.fromtimestamp(expires_at, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    response.set_cookie(
        SESSION_COOKIE, fresh, path="/", expires=expires, httponly=True, secure=True, samesite="Lax"
    )
    return response


async def session_endpoint(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    state.record(request.method, request.path, request.query_string, request.headers, None)
    token = session_cookie(request.cookies)
    record = state.logins.session_tokens.get(token)
    account = None if record is None else record.account_id
    state.logins.count("session", account)
    replaced, drop = await before_auth_call(request, state)
    if replaced is not None:
        state.logins.count("session", account, "failed")
        return replaced
    response = _signed_in(state, token, account)
    if drop:
        state.logins.count("session", account, "failed")
        return drop_connection(request)
    return response
