"""Request helpers shared by the front doors: body reading, client auth, pinned upstreams."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable
from random import getrandbits
from typing import TYPE_CHECKING

import orjson
from aiohttp import web
from aiohttp.hdrs import AUTHORIZATION
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.web_protocol import RequestPayloadError

from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext
from gptgate.errors import AuthenticationError, PayloadTooLarge, RequestError
from gptgate.gateway import Gateway
from gptgate.types import JSONObject

if TYPE_CHECKING:
    from gptgate.accounts.byo import ByoAccounts, Credential

GATEWAY = web.AppKey("gateway", Gateway)
#: The secret path prefix (``api_prefix`` as ``/secret``, or ""): the API is served only under it.
API_PREFIX = web.AppKey("api_prefix", str)
#: The per-call context (client key, door, pinned upstream, ...), made by the middleware.
CALL = web.RequestKey("call", CallContext)
ACCOUNT_HEADER = "ChatGPT-Account-ID"
BYO_ONLY = (
    "This gateway serves clients with their own ChatGPT account: send its access token or refresh "
    "token as 'Authorization: Bearer <token>' (optionally '<token>,<account id>')."
)


def gateway_of(request: web.Request) -> Gateway:
    return request.app[GATEWAY]


def call_of(request: web.Request) -> CallContext:
    """The request's call context (made by the middleware; a bare one outside it, in tests)."""
    try:
        return request[CALL]  # not request.get: Mapping.get is one more Python frame per call
    except KeyError:
        call = request[CALL] = new_call(request)
        return call


def api_root(prefix: str | None) -> str:
    """``api_prefix`` as a path (``/secret``), "" when unset."""
    stripped = (prefix or "").strip("/")
    return "/" + stripped if stripped else ""


def api_path(request: web.Request, path: str) -> str:
    """``path`` without the app's secret ``api_prefix`` (routes are named without it)."""
    prefix = request.app.get(API_PREFIX, "")
    return path[len(prefix) :] if prefix and path.startswith(prefix + "/") else path


def new_call(request: web.Request) -> CallContext:
    call = CallContext(request_id="req_" + unique_hex())
    path = api_path(request, request.path)
    for prefix, upstream in request.app[GATEWAY].pins.items():
        if path.startswith(prefix):
            call.upstream = upstream
            break
    return call


async def read_body(request: web.Request, gateway: Gateway | None = None) -> bytes:
    """The decoded body (gzip/deflate/br/zstd are undone by the server), within the size limit.

    A declared ``Content-Length`` over the limit is refused before reading anything: waiting
    for bytes a client announced but never sends would hang until it gives up. A body that
    cannot be decompressed or de-chunked is the client's fault (400), not the gateway's.

    Read here rather than with ``request.read()``, which keeps the body on the request for as
    long as the request lives: a streamed answer would hold every client's whole request (a
    Claude Code turn is 100+ KB) until its last event. A body read in one piece is not copied.
    ``gateway``: the request's, when the caller has it at hand (else looked up on the app).
    """
    if gateway is None:
        gateway = request.app.get(GATEWAY)
    body = body_at_hand(request, gateway)
    if body is not None:
        return body
    limit = gateway.settings.max_body_bytes if gateway is not None else 0
    content = request.content
    declared = request.content_length
    if limit and declared is not None and declared > limit:
        raise _too_large(f"Content-Length {declared} exceeds the limit of {limit} bytes")
    if limit:
        content.set_read_chunk_size(limit)  # decompress in large pieces (as request.read() does)
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := await content.readany():
            size += len(chunk)
            if limit and size > limit:
                raise _too_large(f"the body passed the limit of {limit} bytes")
            chunks.append(chunk)
            if content.at_eof():  # whole in the first read, no second await
                break
    except (RequestPayloadError, BadHttpMessage) as exc:
        raise _unreadable(request) from exc
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def body_at_hand(request: web.Request, gateway: Gateway | None) -> bytes | None:
    """:func:`read_body` of a body that came whole with the headers (the usual one), read with
    no await; None while more is to come. A caller that awaits :func:`read_body` only when this
    is None creates no coroutine for the usual request."""
    content = request.content
    if not content.is_eof():
        return None
    limit = gateway.settings.max_body_bytes if gateway is not None else 0
    if limit:  # as read_body: the declared length first (a compressed body's may be over)
        declared = request.content_length
        if declared is not None and declared > limit:
            raise _too_large(f"Content-Length {declared} exceeds the limit of {limit} bytes")
    try:
        body = content.read_nowait()
    except (RequestPayloadError, BadHttpMessage) as exc:
        raise _unreadable(request) from exc
    if limit and len(body) > limit:
        raise _too_large(f"the body passed the limit of {limit} bytes")
    return body


def _unreadable(request: web.Request) -> RequestError:
    encoding = request.headers.get("Content-Encoding")
    how = f"as declared by Content-Encoding: {encoding[:40]!r}" if encoding else "as framed"
    return RequestError(
        f"The request body could not be read {how}; send a well-formed body.", code="invalid_body"
    )


def _too_large(detail: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than this gateway accepts ({detail}).")


def client_key(request: web.Request) -> str | None:
    """The API key a client presented, in any of the ways the three SDK families send it.

    Keys are printable ASCII; anything else (a Latin-1 or UTF-8 byte, a control character)
    is refused here, once, so no later comparison or hash has to cope with it."""
    auth = request.headers.get(AUTHORIZATION)  # an istr: found without case-folding it (28 ns less)
    if auth:
        scheme, _, value = auth.partition(" ")
        key: str | None = value.strip() if scheme.lower() == "bearer" else auth.strip()
    else:
        key = (
            request.headers.get("x-api-key")
            or request.headers.get("x-goog-api-key")
            or request.query.get("key")
        )
    if key and not (key.isascii() and key.isprintable()):
        raise AuthenticationError("Malformed API key: keys are printable ASCII.")
    return key


def check_key(request: web.Request, keys: list[str], stored: bool = False) -> None:
    """Refuse unless the request presents one of ``keys``; with no keys (and no ``stored`` keys
    that the caller has already tried) anyone is served."""
    if not keys and not stored:
        return
    _check_presented(client_key(request), keys, stored)


def _check_presented(presented: str | None, keys: list[str], stored: bool) -> None:
    """:func:`check_key` of a key already read from the request."""
    if not keys and not stored:
        return
    if not presented:
        raise AuthenticationError("Missing API key: send it as 'Authorization: Bearer <key>'.")
    if not is_key(presented, keys):
        raise AuthenticationError("Incorrect API key provided.")


def is_key(presented: str, keys: list[str]) -> bool:
    candidate = presented.encode()
    return any(hmac.compare_digest(candidate, k.encode()) for k in keys)


def authorize(request: web.Request, gateway: Gateway, call: CallContext) -> Awaitable[None] | None:
    """Admit a request (None), or raise AuthenticationError; an awaitable when admitting it
    needs the client's own account fetched (``byo_tokens``): a plain function otherwise, so the
    usual request creates and awaits no coroutine here.

    A stored client key (``gptgate keys``) is found by its hash in the gateway's key ring and
    kept in ``call.key`` (its limits apply in dispatch); a revoked or expired one is refused
    with a message that says so. Once any key is stored, every request needs a key.
    Otherwise, without ``byo_tokens`` this is :func:`check_key`. With it: one of ``api_keys`` is served
    from the pool; a ChatGPT access or refresh token (``token`` or ``token,account_id``, the
    ``ChatGPT-Account-ID`` header) is served from its own account, kept in ``call.byo``;
    anything else is refused with ``byo_only``, else checked against ``api_keys`` as usual (with
    none configured, the pool serves it).
    """
    ring = gateway.keys
    presented = client_key(request)
    configured = ring.configured
    if presented and configured:
        stored = ring.find(presented)
        if stored is not None:
            refusal = stored.refusal()
            if refusal is not None:
                raise AuthenticationError(
                    refusal, code="revoked_api_key" if stored.revoked_at else "expired_api_key"
                )
            call.key = stored
            ring.used(stored, time.time())
            return None
    settings = gateway.settings
    byo = gateway.byo
    if byo is None:
        if settings.api_keys or configured:  # else anyone is served (check_key's first test)
            _check_presented(presented, settings.key_values(), configured)
        return None
    keys = settings.key_values()
    if presented and keys and is_key(presented, keys):
        return None  # a configured key: the pool serves it
    credential = byo.detect(presented, request.headers.get(ACCOUNT_HEADER)) if presented else None
    if credential is not None:
        return _own_account(byo, credential, call)
    if settings.byo_only:
        raise AuthenticationError(BYO_ONLY, code="missing_chatgpt_token")
    _check_presented(presented, keys, configured)
    return None


async def _own_account(byo: ByoAccounts, credential: Credential, call: CallContext) -> None:
    call.byo = await byo.account(credential)


def ignored_header(req: CanonicalRequest) -> dict[str, str]:
    return {"x-gptgate-ignored": ",".join(req.ignored)} if req.ignored else {}


def json_response(data: JSONObject, headers: dict[str, str] | None = None, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, headers=headers, content_type="application/json"
    )


def unique_hex() -> str:
    """24 hex digits that name a request or an answer (``req_…``, ``chatcmpl-…``): unique, not
    secret, so no system call per request (``random`` is reseeded in each forked worker). Through
    bytes, not a format spec: the same digits in 40 % of the time."""
    return getrandbits(96).to_bytes(12).hex()


def new_id(prefix: str) -> tuple[str, int]:
    return prefix + unique_hex(), int(time.time())
