"""The OAuth token endpoint: refresh a Codex login's tokens (codex-backend §5.1).

The request is the one the official Codex CLI sends: ``POST https://auth.openai.com/oauth/token``,
``content-type: application/json``, body
``{"client_id":"app_EMoamEEZ73f0CkXaXp7hrann","grant_type":"refresh_token","refresh_token":…}``
(no ``scope``; older clients and some proxies add one). The refresh token rotates: the caller must
store the returned one before anything else, the old one now answers ``refresh_token_reused``.

Errors (not client-facing; the pool decides what they mean for an account)::

    TokenEndpointError
     ├── RefreshRejected     the grant is dead: a refresh token reused, expired or revoked, a
     │                       deactivated account, any 401, a signed-out web session. The
     │                       account needs a new login; ``reason`` is the upstream's code.
     └── RefreshUnavailable  5xx, 429, 408, another unexpected answer, a network error or a
                             timeout: transient, try again later (``retry_after`` when given).

A timeout or a lost reply may still have rotated the refresh token upstream; the next attempt
then answers ``refresh_token_reused`` (the official client has the same hazard).

Every call leaves the way the account's turns do (issue 13): ``send`` takes a :class:`Route`,
the upstream transport (aiohttp or curl_cffi) and the account's egress proxy, so the auth server
never sees one account from two addresses. A bare ``aiohttp.ClientSession`` is still accepted
for calls made for no pooled account (a client's own token in bring-your-own-token mode).

Tokens never appear in messages or reprs, and nothing here logs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict

from gptgate.accounts import jwt
from gptgate.upstreams.transport import ProxyFailed, Transport

DEFAULT_TOKEN_URL = "https://auth.openai.com/oauth/token"
CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
DEFAULT_ORIGINATOR = "codex_cli_rs"
#: Codes that mean the grant can never work again (codex §5.1; OAuth's own ``invalid_grant``).
DEAD_GRANT_CODES = frozenset(
    {
        "refresh_token_expired",
        "refresh_token_reused",
        "refresh_token_invalidated",
        "invalid_grant",
        "access_denied",
        "account_deactivated",
        "token_invalidated",
        "token_revoked",
    }
)
TRANSIENT_STATUSES = frozenset({408, 425, 429})
_MAX_CODE = 64


@dataclass(frozen=True, slots=True)
class TokenSet:
    """Tokens from a refresh or a session exchange; ``expires_at`` is the access token's expiry
    (its JWT ``exp``, else ``expires_in`` from now, else None)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    id_token: str | None = field(repr=False)
    expires_at: float | None
    #: a rotated web session token set by the session endpoint (None: keep the current one)
    session_token: str | None = field(default=None, repr=False)


class TokenEndpointError(Exception):
    """A token refresh or session exchange failed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RefreshRejected(TokenEndpointError):
    """The grant is dead; the account must be signed in again."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(f"token grant rejected: {reason}", status=status)
        self.reason = reason


class RefreshUnavailable(TokenEndpointError):
    """A transient failure; the same grant may work later."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Reply:
    """What an auth endpoint answered: status, JSON body (None if not JSON), retry hint, cookies."""

    status: int
    body: Any
    retry_after: float | None
    cookies: dict[str, str]


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: rare here, and a later retry is harmless


@dataclass(frozen=True, slots=True)
class Route:
    """How one account's auth calls leave: the gateway's upstream transport, through the
    account's egress proxy (None: direct)."""

    transport: Transport
    proxy: str | None = None


Via = aiohttp.ClientSession | Route


def set_cookies(headers: Mapping[str, str]) -> dict[str, str]:
    """name -> value of every ``set-cookie`` of a reply (aiohttp's multidict or curl's dict)."""
    getall = getattr(headers, "getall", None)
    values = getall("set-cookie", []) if getall is not None else [headers.get("set-cookie") or ""]
    jar: SimpleCookie = SimpleCookie()
    for value in values:
        try:
            jar.load(value)
        except CookieError:
            continue
    return {name: morsel.value for name, morsel in jar.items()}


async def _send_routed(
    route: Route,
    method: str,
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 -- one deadline for the whole call
    headers: Mapping[str, str],
    data: bytes | None,
) -> tuple[int, bytes, float | None, dict[str, str]]:
    try:
        async with asyncio.timeout(timeout):
            resp = await route.transport.request(method, url, dict(headers), data, route.proxy)
            complete = False
            try:
                raw = await resp.read()
                complete = True
            finally:
                await resp.aclose(complete)
    except TimeoutError:
        raise RefreshUnavailable(f"no answer from {url} within {timeout:g} s") from None
    except ProxyFailed as exc:
        raise RefreshUnavailable(f"the account's egress proxy failed: {exc.reason}") from None
    except Exception as exc:  # aiohttp's or curl's connection errors
        raise RefreshUnavailable(f"{type(exc).__name__} talking to {url}") from None
    return resp.status, raw, _retry_after(resp.headers.get("retry-after")), set_cookies(resp.headers)


async def send(
    session: Via,
    method: str,
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 -- the request's aiohttp ClientTimeout(total=timeout)
    headers: Mapping[str, str] | CIMultiDict[str],
    data: bytes | None = None,
) -> Reply:
    """One request on ``session``'s connection pool but without its cookie jar (auth replies set
    per-account cookies that must not reach other accounts' requests). Network errors and
    timeouts raise :class:`RefreshUnavailable`."""
    if isinstance(session, Route):
        status, raw, retry_after, cookies = await _send_routed(
            session, method, url, timeout=timeout, headers=headers, data=data
        )
        return _reply(status, raw, retry_after, cookies)
    if session.closed:
        raise RuntimeError("the aiohttp session is closed")
    private = aiohttp.ClientSession(
        connector=session.connector, connector_owner=False, cookie_jar=aiohttp.DummyCookieJar()
    )
    try:
        async with private.request(
            method, url, headers=headers, data=data, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            raw = await response.read()
            cookies = {name: morsel.value for name, morsel in response.cookies.items()}
            status, retry_after = response.status, _retry_after(response.headers.get("retry-after"))
    except TimeoutError:
        raise RefreshUnavailable(f"no answer from {url} within {timeout:g} s") from None
    except aiohttp.ClientError as exc:
        raise RefreshUnavailable(f"{type(exc).__name__} talking to {url}") from None
    finally:
        await private.close()
    return _reply(status, raw, retry_after, cookies)


def _reply(status: int, raw: bytes, retry_after: float | None, cookies: dict[str, str]) -> Reply:
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        body = None
    return Reply(status, body, retry_after, cookies)


def error_code(body: Any) -> str | None:
    """The code of an error body: ``error.code``, a top-level ``code``, ``detail.code``, or a
    string ``error`` (the shapes the official client reads, codex §5.1)."""
    if not isinstance(body, dict):
        return None
    error, detail = body.get("error"), body.get("detail")
    candidates = (
        error.get("code") if isinstance(error, dict) else None,
        body.get("code"),
        detail.get("code") if isinstance(detail, dict) else None,
        error,
    )
    for code in candidates:
        if isinstance(code, str) and code:
            return code[:_MAX_CODE]
    return None


def classify_failure(reply: Reply, what: str) -> TokenEndpointError:
    """A non-200 answer as a dead grant or a transient failure."""
    status, code = reply.status, error_code(reply.body)
    if status >= 500 or status in TRANSIENT_STATUSES:
        return RefreshUnavailable(
            f"{what} answered HTTP {status}", status=status, retry_after=reply.retry_after
        )
    if code in DEAD_GRANT_CODES or status == 401 or (status == 403 and code is not None):
        return RefreshRejected(code or "unauthorized", status=status)
    suffix = f" ({code})" if code else ""
    return RefreshUnavailable(f"{what} answered HTTP {status}{suffix}", status=status)


def token_expiry(access_token: str, expires_in: Any = None) -> float | None:
    exp = jwt.claims(access_token).get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return float(exp)
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        return time.time() + float(expires_in)
    return None


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) and value else None


def _token_set(body: Any, previous_refresh_token: str) -> TokenSet:
    access_token = _optional_str(body, "access_token") if isinstance(body, dict) else None
    if access_token is None or not isinstance(body, dict):
        raise RefreshUnavailable("token endpoint answered 200 without an access_token", status=200)
    return TokenSet(
        access_token=access_token,
        refresh_token=_optional_str(body, "refresh_token") or previous_refresh_token,
        id_token=_optional_str(body, "id_token"),
        expires_at=token_expiry(access_token, body.get("expires_in")),
    )


async def refresh_tokens(
    session: Via,
    *,
    token_url: str,
    refresh_token: str,
    client_id: str,
    timeout: float,  # noqa: ASYNC109 -- the request's aiohttp ClientTimeout(total=timeout)
    headers: Mapping[str, str] | None = None,
) -> TokenSet:
    """Exchange ``refresh_token`` for new tokens, as Codex CLI does.

    ``headers`` adds to (or replaces) ``originator: codex_cli_rs``; pass the upstream's
    ``user-agent`` there. Raises :class:`RefreshRejected` or :class:`RefreshUnavailable`.
    """
    body = {"client_id": client_id, "grant_type": "refresh_token", "refresh_token": refresh_token}
    request_headers = CIMultiDict({"content-type": "application/json", "originator": DEFAULT_ORIGINATOR})
    request_headers.update(headers or {})
    reply = await send(
        session, "POST", token_url, timeout=timeout, headers=request_headers, data=orjson.dumps(body)
    )
    if reply.status != 200:
        raise classify_failure(reply, "token endpoint")
    return _token_set(reply.body, refresh_token)
