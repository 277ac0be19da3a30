"""The aiohttp application: routes from the registry, each behind the guard (``guard.py``)."""

from __future__ import annotations

from aiohttp import web

from gptgate.admin.app import setup_admin
from gptgate.chat.app import setup_chat
from gptgate.files.routes import setup_files
from gptgate.gateway import Gateway
from gptgate.guard import RouteGuard, guarded, needs_key, unrouted
from gptgate.http import API_PREFIX, GATEWAY, api_root
from gptgate.observability.health import health_routes
from gptgate.observability.metrics import metrics_handler
from gptgate.protocols.registry import door_of, error_response, routes


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(gateway: Gateway) -> web.Application:
    app = web.Application(client_max_size=gateway.settings.max_body_bytes)
    app[GATEWAY] = gateway
    prefix = app[API_PREFIX] = api_root(gateway.settings.api_prefix)  # the API only under it
    plain = [web.get("/health", health), *health_routes(), web.get("/metrics", metrics_handler)]
    plain += setup_admin(app, gateway)
    plain += setup_chat(app, gateway)  # /chat; its /chat/api takes client keys like /v1
    plain += setup_files(app, gateway)  # /files/{signed token}: generated images and files
    table: list[web.RouteDef] = []
    for plain_route in plain:
        route = RouteGuard(gateway, error_response, auth=needs_key(plain_route.path))
        table.append(_behind(plain_route, route))
    pins = gateway.pins
    for door_route in routes():
        path = prefix + door_route.path
        route = RouteGuard(
            gateway,
            error_response,
            door=door_route.door,
            door_of=door_of if door_route.door == "gemini" else None,
            pin=next((up for start, up in pins.items() if door_route.path.startswith(start)), None),
            auth=needs_key(path),
        )
        table.append(web.route(door_route.method, path, guarded(door_route.handler, route)))
    # last: anything no route took, a 404 or 405 in the client's envelope (auth first, as ever)
    table.append(
        web.route("*", "/{tail:.*}", guarded(unrouted, RouteGuard(gateway, error_response, auth=None)))
    )
    app.router.add_routes(table)

    async def on_startup(app: web.Application) -> None:
        await gateway.start()

    async def on_cleanup(app: web.Application) -> None:
        await gateway.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def _behind(definition: web.RouteDef, route: RouteGuard) -> web.RouteDef:
    return web.RouteDef(
        definition.method, definition.path, guarded(definition.handler, route), definition.kwargs
    )
