"""The aiohttp application: routes from the registry, client auth, errors in the client's envelope."""

from __future__ import annotations

import logging
import time
import traceback

from aiohttp import web
from aiohttp.typedefs import Handler

from gptgate.admin.app import setup_admin
from gptgate.chat.app import setup_chat
from gptgate.errors import GatewayError, NotFoundError, RequestError
from gptgate.files.links import CURRENT_REQUEST
from gptgate.files.routes import setup_files
from gptgate.gateway import Gateway
from gptgate.http import API_PREFIX, CALL, GATEWAY, api_root, authorize, new_call
from gptgate.observability.health import health_routes
from gptgate.observability.logs import REQUEST_ID
from gptgate.observability.metrics import metrics_handler
from gptgate.protocols.registry import door_of, error_response, routes

log = logging.getLogger("gptgate.app")

#: A failure's full traceback is logged once per site and this many seconds; repeats are one
#: line, so a client replaying a request that trips a bug cannot flood the log.
TRACEBACK_EVERY_S = 60.0
_traceback_logged: dict[tuple[str, str], float] = {}

#: ``/backend-api/ps/mcp``: Codex's apps MCP client calls it without credentials; it gets the
#: 404 the ChatGPT backend's stand-ins give (gptgate serves no apps), not a 401 to retry
OPEN_PATHS = frozenset(
    {"/", "/health", "/healthz", "/readyz", "/metrics", "/chat", "/chat/", "/backend-api/ps/mcp"}
)
#: no client key here: the admin console and API (their own auth), the chat page's files,
#: generated-file downloads (the signed link is the authorization)
OWN_AUTH_PREFIXES = ("/admin", "/chat/static/", "/files/")


def _error_for(exc: web.HTTPException) -> GatewayError:
    if exc.status == 404:
        return NotFoundError("Unknown path. The API lives under /v1 (see GET /v1/models).")
    if exc.status == 405:
        err = RequestError(f"Method not allowed: {exc.reason}.", code="method_not_allowed")
        err.status = 405
        return err
    if exc.status == 413:
        err = RequestError("The request body is too large.", code="request_too_large")
        err.status = 413
        return err
    err = RequestError(exc.text or exc.reason)
    err.status = exc.status
    return err


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The call's context, client auth (an API key, or the client's own ChatGPT token), then the
    handler; anything escaping becomes an error envelope, never a traceback. A model turn's call
    is closed here, once its answer is complete, so usage, limits and metrics see every call.
    (One frame: an open stream holds this coroutine and the handler's, nothing in between.)"""
    gateway = request.app[GATEWAY]
    call = request[CALL] = new_call(request)
    REQUEST_ID.set(call.request_id)
    CURRENT_REQUEST.set(request)  # the base of file links written into this answer
    door = door_of(request)
    if door is not None:
        call.door = door
    response: web.StreamResponse | None = None
    try:
        try:
            path = request.path
            if path not in OPEN_PATHS and not path.startswith(OWN_AUTH_PREFIXES):
                await authorize(request, gateway, call)
            response = await handler(request)
            return response
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            call.error = _error_for(exc)
        except GatewayError as exc:
            call.error = exc
        except Exception as exc:
            _log_failure(request, exc)
            call.error = GatewayError("The gateway failed to handle this request; see its log.")
        response = error_response(request, call.error)
        return response
    finally:
        if door is not None:
            call.status = response.status if response is not None else 499  # cancelled: client left
            await gateway.observers.call_closed(call)


def _log_failure(request: web.Request, exc: Exception) -> None:
    """One line per failure (type and site, never the request's data); the traceback once per
    site per :data:`TRACEBACK_EVERY_S`."""
    frames = traceback.extract_tb(exc.__traceback__)
    site = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    key = (type(exc).__name__, site)
    now = time.monotonic()
    first = now - _traceback_logged.get(key, -TRACEBACK_EVERY_S) >= TRACEBACK_EVERY_S
    if first:
        _traceback_logged[key] = now
    log.error(
        "unhandled %s at %s on %s %s",
        type(exc).__name__,
        site,
        request.method,
        request.path[:200],
        exc_info=exc if first else None,
    )


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(gateway: Gateway) -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=gateway.settings.max_body_bytes)
    app[GATEWAY] = gateway
    app.router.add_get("/health", health)
    app.router.add_routes(health_routes())
    app.router.add_get("/metrics", metrics_handler)
    setup_admin(app, gateway)
    setup_chat(app, gateway)  # /chat; its /chat/api takes client keys like /v1
    setup_files(app, gateway)  # /files/{signed token}: generated images and files
    prefix = app[API_PREFIX] = api_root(gateway.settings.api_prefix)  # the API only under it
    for route in routes():
        app.router.add_route(route.method, prefix + route.path, route.handler)

    async def on_startup(app: web.Application) -> None:
        await gateway.start()

    async def on_cleanup(app: web.Application) -> None:
        await gateway.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app
