"""``python -m tests.admin.serve_admin serve ...``: ``gptgate serve`` with the admin console mounted.

Until ``gptgate.app.create_app`` calls ``setup_admin`` itself, the admin tests run the real
command through this shim; ``setup_admin`` is idempotent, so the shim stays harmless after.
"""

from __future__ import annotations

from aiohttp import web

import gptgate.server
from gptgate.admin.app import setup_admin
from gptgate.app import create_app
from gptgate.gateway import Gateway


def create_app_with_admin(gateway: Gateway) -> web.Application:
    app = create_app(gateway)
    setup_admin(app, gateway)
    return app


if __name__ == "__main__":
    gptgate.server.create_app = create_app_with_admin  # type: ignore[attr-defined]
    from gptgate.cli import main

    main()
