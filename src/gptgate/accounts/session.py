"""The web session exchange: a ChatGPT session cookie → an access token (chatgpt-web §5.1).

``GET {base}/api/auth/session`` with the cookie ``__Secure-next-auth.session-token=<value>``
(sent as NextAuth's ``.0``, ``.1``, … chunks when it is too long for one cookie) answers
``{"user": {…}, "expires": …, "accessToken": "<JWT>", "authProvider": …}`` and may set a
rotated session cookie, returned as :attr:`TokenSet.session_token`. A signed-out session
answers ``{}``: :class:`RefreshRejected` with reason ``session_invalid``. Errors split as in
``oauth.py``; an HTML answer (a challenge page) is :class:`RefreshUnavailable`.
"""

from __future__ import annotations

from collections.abc import Mapping

from multidict import CIMultiDict

from gptgate.accounts.oauth import (
    RefreshRejected,
    RefreshUnavailable,
    TokenSet,
    Via,
    classify_failure,
    send,
    token_expiry,
)

DEFAULT_SESSION_BASE_URL = "https://chatgpt.com"
SESSION_PATH = "/api/auth/session"
SESSION_COOKIE = "__Secure-next-auth.session-token"
CHUNK_SIZE = 3933  # NextAuth: 4096 bytes per cookie minus its estimate of the attributes
SESSION_INVALID = "session_invalid"


def cookie_header(session_token: str) -> str:
    """The ``cookie`` header carrying ``session_token`` (chunked like NextAuth when long)."""
    if len(session_token) <= CHUNK_SIZE:
        return f"{SESSION_COOKIE}={session_token}"
    chunks = [session_token[i : i + CHUNK_SIZE] for i in range(0, len(session_token), CHUNK_SIZE)]
    return "; ".join(f"{SESSION_COOKIE}.{index}={chunk}" for index, chunk in enumerate(chunks))


def rotated_session(cookies: Mapping[str, str]) -> str | None:
    """The session token a reply set, whole or in chunks (None when it set none)."""
    if cookies.get(SESSION_COOKIE):
        return cookies[SESSION_COOKIE]
    chunks: list[str] = []
    while chunk := cookies.get(f"{SESSION_COOKIE}.{len(chunks)}"):
        chunks.append(chunk)
    return "".join(chunks) or None


async def exchange_session(
    session: Via,
    *,
    base_url: str,
    session_token: str,
    timeout: float,  # noqa: ASYNC109 -- the request's aiohttp ClientTimeout(total=timeout)
    headers: Mapping[str, str] | None = None,
) -> TokenSet:
    """An access token for the web session ``session_token``.

    ``headers`` adds to the request (e.g. the operator gateway's ``user-agent``). Raises
    :class:`RefreshRejected` (signed out, deactivated, 401) or :class:`RefreshUnavailable`.
    """
    request_headers = CIMultiDict({"accept": "application/json", "cookie": cookie_header(session_token)})
    request_headers.update(headers or {})
    url = base_url.rstrip("/") + SESSION_PATH
    reply = await send(session, "GET", url, timeout=timeout, headers=request_headers)
    if reply.status != 200:
        raise classify_failure(reply, "session endpoint")
    if not isinstance(reply.body, dict):
        raise RefreshUnavailable("session endpoint answered 200 without a JSON object", status=200)
    access_token = reply.body.get("accessToken")
    if not isinstance(access_token, str) or not access_token:
        raise RefreshRejected(SESSION_INVALID, status=200)
    rotated = rotated_session(reply.cookies)
    return TokenSet(
        access_token=access_token,
        refresh_token=None,
        id_token=None,
        expires_at=token_expiry(access_token),
        session_token=rotated if rotated != session_token else None,
    )
