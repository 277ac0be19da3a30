"""The aiohttp application: routes from the registry, client auth, errors in the client's envelope."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from gptgate.errors import AuthenticationError, GatewayError, NotFoundError, RequestError
from gptgate.gateway import Gateway
from gptgate.http import GATEWAY, authorize
from gptgate.protocols.registry import error_response, routes

log = logging.getLogger("gptgate.app")

OPEN_PATHS = frozenset({"/", "/health"})


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
    """Client auth (an API key, or the client's own ChatGPT token), then the handler; anything
    escaping becomes an error envelope, never a traceback."""
    try:
        if request.path not in OPEN_PATHS:
            await authorize(request, request.app[GATEWAY])
        return await handler(request)
    except AuthenticationError as exc:
        return error_response(request, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(request, _error_for(exc))
    except GatewayError as exc:
        return error_response(request, exc)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            request, GatewayError("The gateway failed to handle this request; see its log.")
        )


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(gateway: Gateway) -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=gateway.settings.max_body_bytes)
    app[GATEWAY] = gateway
    app.router.add_get("/health", health)
    for route in routes():
        app.router.add_route(route.method, route.path, route.handler)

    async def on_startup(app: web.Application) -> None:
        await gateway.start()

    async def on_cleanup(app: web.Application) -> None:
        await gateway.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app
