"""The admin console and admin API, mounted on the gateway's application under ``/admin``.

:func:`setup_admin` adds every admin route to the main application. Each API handler is wrapped
by :func:`protected`, which admits an admin session cookie or ``Authorization: Bearer
<admin_token>`` and nothing else (a client key never opens the admin API; the admin token is
not a client key either, since the client-key check never sees it as one). State-changing
requests made with a cookie must carry ``X-Requested-With: gptgate`` (CSRF: a cross-site form
cannot set it, and the cookie is ``SameSite=Strict`` as well). A wrapper per route, not a
middleware, so model requests pay nothing for the admin API.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import ModuleType

from aiohttp import web

from gptgate.admin import accounts_api as accounts_api
from gptgate.admin import docs as docs
from gptgate.admin import oauth_api as oauth_api
from gptgate.admin import settings_api as settings_api
from gptgate.admin.auth import COOKIE, CSRF_HEADER, CSRF_VALUE, AdminAuth, admin_enabled
from gptgate.admin.errors import AdminError, json_body, json_reply, unauthorized
from gptgate.gateway import Gateway
from gptgate.pages import PackageFiles

log = logging.getLogger("gptgate.admin")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ADMIN_AUTH = web.AppKey("admin_auth", AdminAuth)
API = "/admin/api"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def admin_of(request: web.Request) -> AdminAuth:
    return request.app[ADMIN_AUTH]


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate(request: web.Request) -> str:
    """``"token"`` or ``"session"``; raises a 401 :class:`AdminError` otherwise."""
    auth = admin_of(request)
    token = _bearer(request)
    if token is not None:
        if auth.check_token(token):
            return "token"
        raise unauthorized("This is not the admin token (client API keys do not open the admin API).")
    if auth.session_expiry(request.cookies.get(COOKIE)) is not None:
        if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != CSRF_VALUE:
            raise AdminError(
                f"Missing the {CSRF_HEADER}: {CSRF_VALUE} header.",
                403,
                "csrf_header_missing",
                "permission_error",
            )
        return "session"
    raise unauthorized()


def guarded(handler: Handler, *, open_: bool = False) -> Handler:
    """``handler`` behind admin auth (unless ``open_``), answering AdminError as JSON."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            if not open_:
                authenticate(request)
            return await handler(request)
        except AdminError as exc:
            return exc.response()
        except web.HTTPException:
            raise
        except Exception:
            log.exception("admin API failed on %s %s", request.method, request.path)
            return AdminError("The admin API failed; see the gateway log.", 500, "internal_error").response()

    return wrapped


# -- sign-in
async def login(request: web.Request) -> web.Response:
    auth = admin_of(request)
    client = request.remote or "unknown"
    wait = auth.locked_for(client)
    if wait > 0:
        raise AdminError(
            "Too many failed sign-ins from this address; try again later.",
            429,
            "admin_locked_out",
            "rate_limit_error",
            {"Retry-After": str(int(wait) + 1)},
        )
    body = await json_body(request)
    password = body.get("password")
    if not isinstance(password, str) or not auth.check_password(password):
        auth.failed(client)
        raise unauthorized("Wrong admin password.")
    auth.succeeded(client)
    cookie, expires = auth.new_session()
    response = json_reply({"signed_in": True, "expires_at": expires})
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(auth.session_seconds),
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path="/admin",
    )
    return response


async def logout(request: web.Request) -> web.Response:
    admin_of(request).end_session(request.cookies.get(COOKIE))
    response = json_reply({"signed_in": False})
    response.del_cookie(COOKIE, path="/admin")
    return response


async def session(request: web.Request) -> web.Response:
    """Whether the caller is signed in (never a 401: the console asks this before signing in)."""
    auth = admin_of(request)
    if _bearer(request) is not None and auth.check_token(_bearer(request) or ""):
        return json_reply({"signed_in": True, "via": "token", "expires_at": None})
    expires = auth.session_expiry(request.cookies.get(COOKIE))
    return json_reply({"signed_in": expires is not None, "via": "session", "expires_at": expires})


# -- the console's files
FILES = PackageFiles("gptgate.admin")


async def console(request: web.Request) -> web.Response:
    response = FILES.response(request, "index.html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'"
    )
    return response


async def static(request: web.Request) -> web.Response:
    return FILES.response(request, request.match_info["name"])


async def disabled(request: web.Request) -> web.Response:
    raise AdminError(
        "The admin console is off on this address: set admin_password or admin_token to turn it on.",
        403,
        "admin_disabled",
        "permission_error",
    )


def _optional_routes() -> list[web.RouteDef]:
    """The keys and usage APIs, when those modules are installed."""
    found: list[web.RouteDef] = []
    for name in ("keys_api", "usage_api"):
        module: ModuleType | None
        try:
            module = __import__(f"gptgate.admin.{name}", fromlist=["routes"])
        except ImportError:
            module = None
        if module is not None and hasattr(module, "routes"):
            found.extend(module.routes())
    return found


def api_routes() -> list[tuple[str, str, Handler]]:
    """(method, path under /admin/api, handler) of every protected API route."""
    table: list[tuple[str, str, Handler]] = []
    for module in (accounts_api, oauth_api, settings_api):
        table.extend(module.ROUTES)
    table.extend((route.method, route.path, route.handler) for route in _optional_routes())
    return table


def setup_admin(app: web.Application, gateway: Gateway) -> list[web.RouteDef]:
    """The console at ``/admin`` and the API at ``/admin/api``: their state set on ``app``, their
    routes returned for the app to register (behind its guard); none when already set up."""
    if ADMIN_AUTH in app:
        return []
    settings = gateway.settings
    app[ADMIN_AUTH] = AdminAuth.from_settings(settings)
    if not admin_enabled(settings):
        return [
            web.route("*", path, guarded(disabled, open_=True)) for path in ("/admin", "/admin/{tail:.*}")
        ]
    table = [
        web.get("/admin", guarded(console, open_=True)),
        web.get("/admin/", guarded(console, open_=True)),
        web.get("/admin/static/{name:.+}", guarded(static, open_=True)),
        web.post(API + "/login", guarded(login, open_=True)),
        web.post(API + "/logout", guarded(logout, open_=True)),
        web.get(API + "/session", guarded(session, open_=True)),
        web.get(API + "/openapi.json", guarded(docs.openapi, open_=True)),
        web.get("/admin/docs", guarded(docs.reference, open_=True)),
    ]
    table += [web.route(method, API + path, guarded(handler)) for method, path, handler in api_routes()]
    oauth_api.install(app)
    return table
