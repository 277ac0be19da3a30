"""Request helpers shared by the front doors: body reading, client auth, pinned upstreams."""

from __future__ import annotations

import hmac
import time
from secrets import token_hex

import orjson
from aiohttp import web

from gptgate.canonical.request import CanonicalRequest
from gptgate.errors import AuthenticationError, PayloadTooLarge
from gptgate.gateway import Gateway
from gptgate.types import JSONObject

GATEWAY = web.AppKey("gateway", Gateway)


def gateway_of(request: web.Request) -> Gateway:
    return request.app[GATEWAY]


async def read_body(request: web.Request) -> bytes:
    """The decoded body (gzip/deflate/br/zstd are undone by the server), within the size limit."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(
            f"The request body is larger than this gateway accepts ({exc.text or 'limit exceeded'})."
        ) from exc


def client_key(request: web.Request) -> str | None:
    """The API key a client presented, in any of the ways the three SDK families send it."""
    auth = request.headers.get("Authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else auth.strip()
    return (
        request.headers.get("x-api-key") or request.headers.get("x-goog-api-key") or request.query.get("key")
    )


def check_key(request: web.Request, keys: list[str]) -> None:
    if not keys:
        return
    presented = client_key(request)
    if not presented:
        raise AuthenticationError("Missing API key: send it as 'Authorization: Bearer <key>'.")
    candidate = presented.encode()
    if not any(hmac.compare_digest(candidate, k.encode()) for k in keys):
        raise AuthenticationError("Incorrect API key provided.")


def pin_upstream(request: web.Request, req: CanonicalRequest) -> None:
    """``/codex/v1/...`` serves from the Codex upstream only (seed-compatible prefixes)."""
    if request.path.startswith("/codex/"):
        req.upstream = "codex"


def ignored_header(req: CanonicalRequest) -> dict[str, str]:
    return {"x-gptgate-ignored": ",".join(req.ignored)} if req.ignored else {}


def json_response(data: JSONObject, headers: dict[str, str] | None = None, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, headers=headers, content_type="application/json"
    )


def new_id(prefix: str) -> tuple[str, int]:
    return prefix + token_hex(12), int(time.time())
