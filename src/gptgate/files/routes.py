"""``GET /files/{token}``: a generated image or file, streamed from the upstream to the client.

The signed token (``links.py``) is the authorization, so the path takes no client key (it is
opened in ``app.py``): a link in an answer works in a browser, a markdown viewer, ``curl``. The
upstream resolves the file with the account's own token, server side; the client sees only the
bytes. Types that a browser would run (HTML, SVG, scripts) are sent as a download, never inline,
since this origin also serves the admin console.
"""

from __future__ import annotations

import logging
from typing import Final

from aiohttp import web

from gptgate import SERVER_NAME
from gptgate.errors import NotFoundError
from gptgate.files.generated import GENERATED, GeneratedFiles
from gptgate.files.links import PATH, FileLink, FileSource, LinkInvalid, signer_from_settings
from gptgate.gateway import Gateway
from gptgate.http import GATEWAY

log = logging.getLogger("gptgate.files")
INLINE_TYPES: Final = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv"}
)


def _source(gateway: Gateway, token: str) -> tuple[FileSource, FileLink]:
    for upstream in gateway.upstreams.values():
        if isinstance(upstream, FileSource):
            try:
                link = upstream.links.verify(token)
            except LinkInvalid:
                continue
            if link.upstream == upstream.name:
                return upstream, link
    raise NotFoundError("This download link is not valid or has expired.")


async def download(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    held = request.app[GENERATED].get(request.match_info["token"]) if GENERATED in request.app else None
    if held is not None:  # an image the gateway keeps itself (``generated.py``)
        headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
        return web.Response(body=held[1], content_type=held[0], headers=headers)
    source, link = _source(gateway, request.match_info["token"])
    account = gateway.pool.get(link.account_id)
    if account is None:
        raise NotFoundError("The account that made this file is no longer served.")
    await gateway.accounts.ensure_fresh(account)
    found = await source.download(link, account)
    kind = found.content_type.split(";", 1)[0].strip().lower()
    headers = {
        "Content-Type": kind if kind in INLINE_TYPES else "application/octet-stream",
        "Cache-Control": "private, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Server": SERVER_NAME,  # streamed: prepared here, before the guard sees it
    }
    if kind not in INLINE_TYPES:
        headers["Content-Disposition"] = "attachment"
    response = web.StreamResponse(headers=headers)
    if found.length is not None:
        response.content_length = found.length
    complete = False
    try:
        await response.prepare(request)
        async for chunk in found.chunks:
            await response.write(chunk)
        complete = True
    finally:
        await found.close(complete)
    await response.write_eof()
    return response


def setup_files(app: web.Application, gateway: Gateway) -> list[web.RouteDef]:
    """The generated files' state on ``app``; their download route for the app to register."""
    app[GENERATED] = GeneratedFiles(signer_from_settings(gateway.settings))
    return [web.get(PATH + "{token}", download)]
