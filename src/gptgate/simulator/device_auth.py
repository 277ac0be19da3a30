"""The device-code sign-in as the Codex CLI does it (``codex login --device-auth``).

=============================================  ==================================================
``POST /api/accounts/deviceauth/usercode``     ``{"client_id"}`` → ``{"device_auth_id",
                                               "user_code", "interval": "5"}`` (a string, as the
                                               real service sends it)
``POST /api/accounts/deviceauth/token``        ``{"device_auth_id", "user_code"}`` → 403 while the
                                               user has not approved, 404 unknown or expired,
                                               then 200 ``{"authorization_code",
                                               "code_challenge", "code_verifier"}``
``GET  /codex/device``                         the page the user opens (a form that approves)
``POST /oauth/token``                          ``grant_type=authorization_code`` with ``code``,
                                               ``code_verifier``, ``redirect_uri``
                                               (``{issuer}/deviceauth/callback``), ``client_id``
                                               → id/access/refresh tokens (``exchange_code``)
``POST /_sim/device/approve``                  ``{"user_code", "email"?, "plan"?}`` → a new
                                               simulated account signs in: ``{"account_id",
                                               "email", "plan"}``
``PUT  /_sim/device``                          ``{"interval"?: s, "expires_in"?: s}``
=============================================  ==================================================

The server keeps the PKCE pair and hands both halves to the poller (that is how the real
device flow works: the CLI never made a verifier of its own); the exchange checks that the
verifier hashes to the challenge and that a code is spent once.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gptgate.simulator.control import json_reply, object_body
from gptgate.simulator.state import STATE_KEY
from gptgate.simulator.tokens import CLIENT_ID
from gptgate.simulator.validate import Rejection


@dataclass(slots=True)
class DeviceCode:
    device_auth_id: str
    user_code: str
    expires_at: float
    account_id: str | None = None  # set on approval
    authorization_code: str | None = None
    code_verifier: str = ""
    code_challenge: str = ""
    spent: bool = False


@dataclass
class DeviceAuth:
    interval: int = 5
    expires_in: int = 900

    def __post_init__(self) -> None:
        self.codes: dict[str, DeviceCode] = {}  # by device_auth_id

    def by_user_code(self, user_code: str) -> DeviceCode | None:
        wanted = user_code.strip().upper()
        return next((c for c in self.codes.values() if c.user_code == wanted), None)

    def by_authorization_code(self, code: str) -> DeviceCode | None:
        return next((c for c in self.codes.values() if c.authorization_code == code), None)


DEVICE_KEY = web.AppKey("gptgate_simulator_device_auth", DeviceAuth)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        return await object_body(request)
    except Rejection:
        return {}


def _user_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


async def usercode(request: web.Request) -> web.Response:
    body = await _body(request)
    if body.get("client_id") != CLIENT_ID:
        return json_reply({"error": "invalid_client"}, 401)
    device = request.app[DEVICE_KEY]
    now = request.app[STATE_KEY].now()
    code = DeviceCode("deviceauth_" + secrets.token_hex(12), _user_code(), now + device.expires_in)
    device.codes[code.device_auth_id] = code
    return json_reply(
        {"device_auth_id": code.device_auth_id, "user_code": code.user_code, "interval": str(device.interval)}
    )


async def poll(request: web.Request) -> web.Response:
    body = await _body(request)
    device = request.app[DEVICE_KEY]
    code = device.codes.get(str(body.get("device_auth_id") or ""))
    now = request.app[STATE_KEY].now()
    if code is None or code.user_code != body.get("user_code") or code.expires_at <= now:
        return json_reply({"error": {"message": "Unknown or expired device code", "code": "not_found"}}, 404)
    if code.authorization_code is None:
        pending = {"message": "The user has not approved this code yet", "code": "deviceauth_pending"}
        return json_reply({"error": pending}, 403)
    return json_reply(
        {
            "authorization_code": code.authorization_code,
            "code_challenge": code.code_challenge,
            "code_verifier": code.code_verifier,
        }
    )


def approve_code(app: web.Application, user_code: str, email: str | None, plan: str | None) -> dict[str, Any]:
    """Sign a new simulated account in on ``user_code``; a KeyError when no such pending code."""
    code = app[DEVICE_KEY].by_user_code(user_code)
    state = app[STATE_KEY]
    if code is None or code.expires_at <= state.now() or code.account_id is not None:
        raise KeyError(user_code)
    account_id = str(uuid.uuid4())
    login = state.logins.add(account_id, plan=plan or state.config.account_plan, email=email)
    if email is None:
        login.email = f"device-{account_id[:8]}@example.com"
    state.usage_for(account_id, login.plan)
    code.account_id = account_id
    code.code_verifier = secrets.token_urlsafe(48)
    code.code_challenge = _challenge(code.code_verifier)
    code.authorization_code = "ac_" + secrets.token_urlsafe(24)
    return {"account_id": account_id, "email": login.email, "plan": login.plan}


async def approve(request: web.Request) -> web.Response:
    body = await _body(request)
    user_code, email, plan = body.get("user_code"), body.get("email"), body.get("plan")
    if not isinstance(user_code, str):
        return json_reply({"detail": "user_code is required"}, 400)
    try:
        approved = approve_code(
            request.app,
            user_code,
            email if isinstance(email, str) else None,
            plan if isinstance(plan, str) else None,
        )
    except KeyError:
        return json_reply({"detail": "no pending device code with this user code"}, 404)
    return json_reply(approved)


async def settings(request: web.Request) -> web.Response:
    body = await _body(request)
    device = request.app[DEVICE_KEY]
    for name in ("interval", "expires_in"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            setattr(device, name, value)
    return json_reply({"interval": device.interval, "expires_in": device.expires_in})


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Device sign-in (simulator)</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto">
<h1>Sign in a device</h1><p>Simulated ChatGPT: enter the code shown by the application.</p>
<form method="post" action="/codex/device"><p><input name="user_code" placeholder="XXXX-XXXX" required></p>
<p><input name="email" placeholder="e-mail (optional)"></p><p><button>Continue</button></p></form>
</body></html>"""


async def page(request: web.Request) -> web.Response:
    if request.method == "POST":
        form = await request.post()
        email = str(form.get("email") or "") or None
        try:
            approve_code(request.app, str(form.get("user_code") or ""), email, None)
        except KeyError:
            return web.Response(text="Unknown or expired code.", status=404)
        return web.Response(text="Signed in. You can close this page.")
    return web.Response(text=PAGE, content_type="text/html")


def exchange_code(request: web.Request, fields: dict[str, Any]) -> web.Response:
    """The ``authorization_code`` grant of ``POST /oauth/token`` (PKCE verifier checked)."""
    if fields.get("client_id") != CLIENT_ID:
        return json_reply({"error": "invalid_client", "error_description": "Unknown client_id"}, 401)
    code = request.app[DEVICE_KEY].by_authorization_code(str(fields.get("code") or ""))
    verifier = str(fields.get("code_verifier") or "")
    if code is None or code.spent or code.account_id is None or _challenge(verifier) != code.code_challenge:
        return json_reply({"error": "invalid_grant", "error_description": "Invalid authorization code"}, 400)
    code.spent = True
    state = request.app[STATE_KEY]
    login = state.logins.add(code.account_id)
    access_token, id_token = state.logins.issue(login)
    return json_reply(
        {
            "id_token": id_token,
            "access_token": access_token,
            "refresh_token": state.logins.new_refresh_token(code.account_id),
            "expires_in": state.config.access_token_lifetime_s,
            "token_type": "Bearer",
        }
    )


def add_device_auth_routes(app: web.Application) -> None:
    app[DEVICE_KEY] = DeviceAuth()
    app.router.add_post("/api/accounts/deviceauth/usercode", usercode)
    app.router.add_post("/api/accounts/deviceauth/token", poll)
    app.router.add_route("*", "/codex/device", page)
    app.router.add_post("/_sim/device/approve", approve)
    app.router.add_put("/_sim/device", settings)
