"""The chat page at ``/chat`` and its API at ``/chat/api``, mounted on the gateway's application.

The page is a client of the gateway's own OpenAI door: its script calls ``/v1/models`` and
``/v1/chat/completions`` with the key holder's key, so every limit, usage row and front-door
rule applies to it unchanged. Only the page and its files are open paths (no key to fetch
them: they hold nothing); ``/chat/api`` goes through the client-key check like a model call.
Files are plain ES modules and CSS from the package, no CDN and no build step, served with a
strict Content-Security-Policy (the page never evaluates model text as HTML either).
"""

from __future__ import annotations

from aiohttp import web

from gptgate.chat import api
from gptgate.gateway import Gateway
from gptgate.pages import PackageFiles

PAGE = "/chat"
API = "/chat/api"
STATIC = "/chat/static/"
MOUNTED = web.AppKey("chat_mounted", bool)
#: images from the gateway itself or inline data only: a model cannot make the page fetch a
#: third-party URL (other images render as links the user may choose to open)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


FILES = PackageFiles("gptgate.chat")


async def page(request: web.Request) -> web.Response:
    response = FILES.response(request, "index.html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def static(request: web.Request) -> web.Response:
    return FILES.response(request, request.match_info["name"])


def setup_chat(app: web.Application, gateway: Gateway) -> list[web.RouteDef]:
    """The page at ``/chat`` and its API at ``/chat/api``: routes for ``app`` to register
    (behind its guard); none when already set up."""
    if MOUNTED in app:
        return []
    app[MOUNTED] = True
    table = [web.get(PAGE, page), web.get(PAGE + "/", page), web.get(STATIC + "{name:.+}", static)]
    table += [web.route(method, API + path, handler) for method, path, handler in api.routes()]
    return table
