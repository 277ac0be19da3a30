"""The files of a page that ships inside the package (the console, the chat page).

Served from the package's ``static/`` folder, never from a CDN: ``ETag`` revalidation
(``Cache-Control: no-cache``), ``nosniff``, a content type by suffix, and nothing outside the
folder (no ``..``, no absolute names).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Final

from aiohttp import web

CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".png": "image/png",
}


class PackageFiles:
    """``package``'s ``static/`` files as responses."""

    __slots__ = ("_package",)

    def __init__(self, package: str) -> None:
        self._package = package

    def read(self, name: str) -> tuple[bytes, str] | None:
        """(bytes, content type) of ``name``, or None when there is no such file."""
        if ".." in name or name.startswith("/") or "." not in name:
            return None
        path = resources.files(self._package).joinpath("static", *name.split("/"))
        if not path.is_file():
            return None
        suffix = "." + name.rsplit(".", 1)[-1]
        return path.read_bytes(), CONTENT_TYPES.get(suffix, "application/octet-stream")

    def response(self, request: web.Request, name: str) -> web.Response:
        """The file (or 304 when the client's copy is current); 404 when there is none."""
        found = self.read(name)
        if found is None:
            raise web.HTTPNotFound()
        data, content_type = found
        etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        headers = {"Cache-Control": "no-cache", "ETag": etag, "X-Content-Type-Options": "nosniff"}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        headers["Content-Type"] = content_type
        return web.Response(body=data, headers=headers)
