"""Download links the gateway hands out for files an upstream generated (``/files/{token}``).

A link carries no upstream URL and no token: only (upstream, account id, pointer, conversation
id, expiry), signed with HMAC-SHA256. The signature is the authorization: whoever holds the link
may download that one file until it expires (``file_link_seconds``). The key is derived from the
store's secret key (so every worker and instance sharing the store honours each other's links),
or is random per process when there is no store and no ``secret_key``.

The links' base URL is ``public_base_url`` when set, else the base the client reached us at
(``X-Forwarded-Proto``/``X-Forwarded-Host`` from a reverse proxy, else the request's own scheme
and Host): the request is kept in a context variable for the upstream that writes the links.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import hmac
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

import orjson
from aiohttp import web

from gptgate.accounts.model import Account
from gptgate.settings import Settings

PATH: Final = "/files/"
_LABEL: Final = b"gptgate file links v1"
#: the request being served (for the base URL of the links written into its answer)
CURRENT_REQUEST: contextvars.ContextVar[web.Request | None] = contextvars.ContextVar(
    "gptgate_files_request", default=None
)


class LinkInvalid(Exception):
    """Tampered, malformed or expired."""


@dataclass(frozen=True, slots=True)
class FileLink:
    upstream: str
    account_id: str
    pointer: str
    conversation_id: str | None
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    """Makes and checks link tokens; ``now`` is injectable for the expiry tests."""

    __slots__ = ("_key", "lifetime", "public_base")

    def __init__(self, key: bytes, *, lifetime: float = 3600.0, public_base: str | None = None) -> None:
        self._key = hmac.new(key, _LABEL, hashlib.sha256).digest()
        self.lifetime = lifetime
        self.public_base = public_base.rstrip("/") if public_base else None

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:20]

    def sign(
        self,
        upstream: str,
        account_id: str,
        pointer: str,
        conversation_id: str | None,
        *,
        now: float | None = None,
    ) -> str:
        expires = int((time.time() if now is None else now) + self.lifetime)
        fields = {"u": upstream, "a": account_id, "p": pointer, "c": conversation_id, "e": expires}
        payload = orjson.dumps(fields)
        return _b64(payload) + "." + _b64(self._mac(payload))

    def verify(self, token: str, *, now: float | None = None) -> FileLink:
        body, _, mac = token.partition(".")
        try:
            payload, signature = _unb64(body), _unb64(mac)
        except (ValueError, TypeError):
            raise LinkInvalid("malformed link") from None
        if not hmac.compare_digest(signature, self._mac(payload)):
            raise LinkInvalid("bad signature")
        fields = orjson.loads(payload)
        if int(fields["e"]) < (time.time() if now is None else now):
            raise LinkInvalid("expired")
        return FileLink(
            str(fields["u"]), str(fields["a"]), str(fields["p"]), fields.get("c"), int(fields["e"])
        )

    def url(self, token: str) -> str:
        """The absolute link: the public base, else the current request's."""
        return (self.public_base or request_base(CURRENT_REQUEST.get())) + PATH + token


def request_base(request: web.Request | None) -> str:
    if request is None:
        return ""
    headers = request.headers
    proto = headers.get("X-Forwarded-Proto", "").split(",", 1)[0].strip() or request.scheme
    host = headers.get("X-Forwarded-Host", "").split(",", 1)[0].strip() or request.host
    return f"{proto}://{host}"


def link_key(settings: Settings) -> bytes:
    """The store's secret key when there is one (shared by every worker), else a random one."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    if settings.account_store:
        from gptgate.storage.connect import KEY_FILE, data_dir
        from gptgate.storage.crypto import load_or_create_key

        return load_or_create_key(settings.secret_key_file or data_dir(settings) / KEY_FILE)
    return secrets.token_bytes(32)


def signer_from_settings(settings: Settings) -> LinkSigner:
    return LinkSigner(
        link_key(settings), lifetime=settings.file_link_seconds, public_base=settings.public_base_url
    )


@dataclass(slots=True)
class Download:
    """An open upstream file: its type, size when known, and its bytes in chunks."""

    content_type: str
    length: int | None
    chunks: AsyncIterator[bytes]
    #: releases the upstream connection (``complete``: the body was read to its end)
    close: Callable[[bool], Awaitable[None]]


@runtime_checkable
class FileSource(Protocol):
    """An upstream that writes file links and serves them back."""

    name: str
    links: LinkSigner

    async def download(self, link: FileLink, account: Account) -> Download: ...
