"""The guard: every route's handler wrapped with the call's context, client auth and errors in
the client's envelope. No aiohttp middleware: a middleware runs for every request through two
more coroutine frames (its own and aiohttp's ``_fix_request_current_app``), and an open stream
holds both; here what is known of a route is decided once, when the route is registered.

Per route, once: its front door (a model turn's call is closed here with usage, limits and
metrics), the upstream its path prefix pins, whether it needs a client key. Per request: the
call context, auth, the handler, and anything escaping it becomes the client's error envelope,
never a traceback. Unknown paths and methods reach :func:`unrouted` through one catch-all route,
so a 404 or 405 is answered in the same envelope.
"""

from __future__ import annotations

import functools
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from gptgate import SERVER_NAME
from gptgate.dispatch.context import CallContext
from gptgate.errors import GatewayError, NotFoundError, RequestError
from gptgate.files.links import CURRENT_REQUEST
from gptgate.gateway import Gateway
from gptgate.http import CALL, authorize, unique_hex
from gptgate.observability.logs import REQUEST_ID
from gptgate.types import ClientProtocol, UpstreamName

log = logging.getLogger("gptgate.app")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: the error envelope of a request (its protocol: by route, else by the headers its SDK sends)
ErrorReply = Callable[[web.Request, GatewayError], web.StreamResponse]
#: a route's door decided per request (Gemini's ``models/{target}``: ``:countTokens`` is none)
DoorOf = Callable[[web.Request], "ClientProtocol | None"]

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


def needs_key(path: str) -> bool:
    """Whether a request to ``path`` (or a route registered at it) must present a client key."""
    return path not in OPEN_PATHS and not path.startswith(OWN_AUTH_PREFIXES)


@dataclass(frozen=True, slots=True)
class RouteGuard:
    """What the guard knows of one route, decided when it is registered."""

    gateway: Gateway
    errors: ErrorReply
    #: the front door of a model turn (None: a route that reaches no upstream)
    door: ClientProtocol | None = None
    #: decides the door per request instead (None: ``door`` holds for every request)
    door_of: DoorOf | None = None
    #: the upstream a path prefix such as ``/codex/v1`` pins
    pin: UpstreamName | None = None
    #: True / False: the route needs a client key or not; None: decided by each request's path
    auth: bool | None = True


def guarded(handler: Handler, route: RouteGuard) -> Handler:
    """``handler`` behind the guard (a partial: aiohttp sees a coroutine function). Bound by
    position: a partial with keywords copies them into a new dict on every call."""
    return functools.partial(_guard, handler, route)


async def _guard(handler: Handler, route: RouteGuard, request: web.Request) -> web.StreamResponse:
    """The call's context, client auth (an API key, or the client's own ChatGPT token), then the
    handler; anything escaping becomes an error envelope. A model turn's call is closed here,
    once its answer is complete, so usage, limits and metrics see every call."""
    # by position: a keyword is matched against all of CallContext's field names (116 ns more)
    call = request[CALL] = CallContext("req_" + unique_hex())
    if route.pin is not None:
        call.upstream = route.pin
    REQUEST_ID.set(call.request_id)
    CURRENT_REQUEST.set(request)  # the base of file links written into this answer
    door = route.door if route.door_of is None else route.door_of(request)
    if door is not None:
        call.door = door
    auth = route.auth
    response: web.StreamResponse | None = None
    try:
        try:
            if (auth or (auth is None and needs_key(request.path))) and (
                pending := authorize(request, route.gateway, call)
            ) is not None:
                await pending  # the client's own account, fetched
            response = await handler(request)
            if not response.prepared:  # a streamed answer was branded by its handler
                response.headers["Server"] = SERVER_NAME
            return response
        except web.HTTPException as exc:
            if exc.status < 400:
                exc.headers["Server"] = SERVER_NAME
                raise
            call.error = _error_for(exc)
        except GatewayError as exc:
            call.error = exc
        except Exception as exc:
            _log_failure(request, exc)
            call.error = GatewayError("The gateway failed to handle this request; see its log.")
        response = route.errors(request, call.error)
        response.headers["Server"] = SERVER_NAME
        return response
    finally:
        if door is not None:
            call.status = response.status if response is not None else 499  # cancelled: client left
            await route.gateway.observers.call_closed(call)


async def unrouted(request: web.Request) -> web.StreamResponse:
    """The catch-all route's handler: 405 when another route serves the path with other methods,
    else 404 (both become the client's envelope in the guard)."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is request.match_info.route.resource:
            continue
        match, methods = await resource.resolve(request)
        if match is None:
            allowed |= methods
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()


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
