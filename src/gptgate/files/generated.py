"""Images the gateway itself holds, for links to images that came as bytes (``/files/{token}``).

The web upstream's images stay upstream and a link names the upstream's pointer
(``links.py``). The Codex backend's ``image_generation`` tool answers with the image's bytes in
the stream, so nothing upstream can serve them later: a door that shows a link (the chat door's
markdown image, the Images API's ``url`` output) keeps the bytes here and links to them. The
link is signed like the upstream ones (``upstream`` = ``gateway``, ``pointer`` = a random id),
so it needs no client key and expires after ``file_link_seconds``.

The images live in this process's memory, at most :data:`MAX_BYTES` in total (the oldest go
first): a link is served by the process that made it. With several workers, ask for
``b64_json`` (the Images API's default) or run one worker; the Anthropic and Gemini doors carry
images inline and need no link at all.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections import OrderedDict
from typing import Final

from aiohttp import web

from gptgate.canonical.hosted import GeneratedImage
from gptgate.files.links import LinkInvalid, LinkSigner

UPSTREAM: Final = "gateway"
MAX_BYTES: Final = 256 * 1024 * 1024


class GeneratedFiles:
    """A bounded, expiring in-memory store of generated images, and the links to them."""

    __slots__ = ("_items", "_size", "max_bytes", "signer")

    def __init__(self, signer: LinkSigner, *, max_bytes: int = MAX_BYTES) -> None:
        self.signer = signer
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[str, bytes, float]] = OrderedDict()
        self._size = 0

    def put(self, data: bytes, mime: str) -> str:
        """Keep ``data`` and return its absolute link."""
        pointer = secrets.token_urlsafe(16)
        self._items[pointer] = (mime, data, time.time() + self.signer.lifetime)
        self._size += len(data)
        while self._size > self.max_bytes and len(self._items) > 1:
            _, (_, old, _) = self._items.popitem(last=False)
            self._size -= len(old)
        return self.signer.url(self.signer.sign(UPSTREAM, "", pointer, None))

    def link(self, image: GeneratedImage) -> str:
        """An :data:`~gptgate.canonical.hosted.ImageLink`: the image kept, its link returned."""
        return self.put(base64.b64decode(image.b64), image.mime)

    def get(self, token: str) -> tuple[str, bytes] | None:
        """(mime, bytes) of a valid link of this store; None for any other token."""
        try:
            link = self.signer.verify(token)
        except LinkInvalid:
            return None
        if link.upstream != UPSTREAM:
            return None
        found = self._items.get(link.pointer)
        if found is None or found[2] < time.time():
            return None
        return found[0], found[1]


GENERATED: Final = web.AppKey("gptgate_generated_files", GeneratedFiles)


def generated_of(request: web.Request) -> GeneratedFiles | None:
    """The app's store (None in an app built without the files routes)."""
    return request.app.get(GENERATED)
