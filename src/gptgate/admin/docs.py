"""The admin API's documentation: an OpenAPI 3.1 document and a short reference page from it.

One table (:data:`ENDPOINTS`) feeds both, so the page cannot drift from the document. The keys
and usage endpoints are listed with the rest; they answer 404 until those modules are installed.
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from gptgate import __version__
from gptgate.admin.errors import json_reply

# (method, path, summary, auth) — auth False: no admin credential needed
ENDPOINTS: list[tuple[str, str, str, bool]] = [
    (
        "POST",
        "/login",
        'Sign in: {"password"} → session cookie (HttpOnly, SameSite=Strict); 429 + Retry-After after repeated failures',
        False,
    ),
    ("POST", "/logout", "Sign out (forget the session)", False),
    ("GET", "/session", '{"signed_in", "via", "expires_at"}', False),
    ("GET", "/openapi.json", "This document", False),
    (
        "GET",
        "/accounts",
        "Every account: plan, status, health, cooldown, quota windows with reset times; no token",
        True,
    ),
    (
        "POST",
        "/accounts",
        "Add one account from its tokens (access_token, refresh_token, id_token, session_token, account_id, email, name, proxy)",
        True,
    ),
    (
        "POST",
        "/accounts/import",
        'Bulk upload: {"text", "files": [{"name", "content"}], "passphrase"} — tokens per line, auth.json, JSON/JSONL, CLIProxyAPI, sub2api or codex-lb exports',
        True,
    ),
    (
        "GET",
        "/accounts/export",
        "?format=gptgate|cliproxyapi|sub2api|codex-lb&confirm=true — every stored account WITH its tokens",
        True,
    ),
    ("POST", "/accounts/clear", 'Remove every stored account: {"confirm": "remove all"}', True),
    ("POST", "/accounts/{id}/test", "Check against the usage endpoint (spends no turn)", True),
    ("POST", "/accounts/{id}/refresh", "Refresh the tokens now", True),
    ("POST", "/accounts/{id}/enable", "Put back in service", True),
    (
        "POST",
        "/accounts/{id}/disable",
        'Take out of service: {"reason"?}; every worker stops using it within seconds',
        True,
    ),
    ("DELETE", "/accounts/{id}", "Delete the account and its tokens", True),
    (
        "POST",
        "/oauth/device/start",
        'Start a device-code sign-in → {"id", "user_code", "verification_uri", "interval", "expires_in"}',
        True,
    ),
    ("GET", "/oauth/device/{id}", '{"status": "pending"|"added"|"expired"|"failed", "account"}', True),
    ("GET", "/settings", "Every setting, read-only, secrets masked", True),
    ("GET", "/keys", "Client API keys with limits and usage", True),
    (
        "POST",
        "/keys",
        'Create a key: {"name", "limits", "expires_at"} → {"key", "secret"} (the secret is shown once)',
        True,
    ),
    ("PATCH", "/keys/{id}", "Change a key's name, limits or expiry", True),
    ("POST", "/keys/{id}/revoke", "Revoke a key", True),
    ("POST", "/keys/{id}/rotate", 'New secret for a key → {"key", "secret"}', True),
    ("GET", "/usage/summary", "?since=&by=key|account|model|day → totals", True),
    ("GET", "/usage/series", "?since=&bucket=&by=key|account|model → tokens and requests per bucket", True),
    ("GET", "/usage/requests", "?limit= → the latest requests, errors first", True),
    ("GET", "/usage/export", "?format=csv|json", True),
    ("GET", "/pool", "Per account: quota windows, burn projection, cache hit share", True),
]

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": "string"},
            },
        }
    },
}


def _operation(method: str, path: str, summary: str, auth: bool) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "operationId": f"{method.lower()}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '').replace('.', '_')}",
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {}}},
            "default": {"description": "Error", "content": {"application/json": {"schema": ERROR}}},
        },
    }
    params = [p[1:-1] for p in path.split("/") if p.startswith("{")]
    if params:
        op["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params
        ]
    if not auth:
        op["security"] = []
    return op


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, auth in ENDPOINTS:
        paths.setdefault("/admin/api" + path, {})[method.lower()] = _operation(method, path, summary, auth)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "gptgate admin API",
            "version": __version__,
            "description": "Sign in with POST /admin/api/login (cookie session; state-changing calls then need "
            "the header X-Requested-With: gptgate) or send Authorization: Bearer <admin_token>.",
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "gptgate_admin"},
                "token": {"type": "http", "scheme": "bearer"},
            }
        },
        "security": [{"session": []}, {"token": []}],
        "paths": paths,
    }


async def openapi(request: web.Request) -> web.Response:
    return json_reply(openapi_document())


def reference_html() -> str:
    rows = "\n".join(
        f"<tr><td><code>{m}</code></td><td><code>/admin/api{html.escape(p)}</code></td>"
        f"<td>{'admin' if a else 'open'}</td><td>{html.escape(s)}</td></tr>"
        for m, p, s, a in ENDPOINTS
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>gptgate admin API</title>
<link rel="stylesheet" href="/admin/static/console.css"></head><body class="doc"><main class="doc-main">
<h1>gptgate admin API</h1>
<p>Every endpoint answers JSON; errors are <code>{{"error": {{"message", "type", "code"}}}}</code>.
Authenticate with a console session (<code>POST /admin/api/login</code>; then send
<code>X-Requested-With: gptgate</code> on state-changing calls) or
<code>Authorization: Bearer &lt;admin_token&gt;</code>. Client API keys never open this API.
The machine-readable document is <a href="/admin/api/openapi.json">/admin/api/openapi.json</a>.</p>
<table class="table"><thead><tr><th>method</th><th>path</th><th>auth</th><th>what</th></tr></thead>
<tbody>{rows}</tbody></table></main></body></html>"""


async def reference(request: web.Request) -> web.Response:
    return web.Response(
        text=reference_html(), content_type="text/html", headers={"Cache-Control": "no-cache"}
    )
