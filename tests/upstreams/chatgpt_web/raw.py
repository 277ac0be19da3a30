"""A fake web backend on a loopback port: every conversation turn answered by one raw handler.

The web variant of ``tests.support.start_raw_upstream``: the gateway's web upstream posts to
``{base}/backend-api/conversation`` (or ``/f/conversation``); ``replay`` (from tests.support)
answers with a fixture's exact bytes, ``by_token`` answers per account.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from tests.support import RawHandler, Served, serve_app

TURN_PATHS = ("/backend-api/conversation", "/backend-api/f/conversation")


async def start_raw_web_upstream(handler: RawHandler) -> Served:
    app = web.Application()
    for path in TURN_PATHS:
        app.router.add_post(path, handler)
    runner, base = await serve_app(app)
    return Served(runner, base)


def by_token(handlers: Mapping[str, RawHandler], default: RawHandler) -> RawHandler:
    """``handlers[token]`` for a turn sent with that bearer token, else ``default``."""

    async def handler(request: web.Request) -> web.StreamResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        return await handlers.get(token, default)(request)

    return handler
