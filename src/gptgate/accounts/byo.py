"""Bring your own token: a client's own ChatGPT access or refresh token as its API key.

With ``byo_tokens`` on, a key that is not one of ``api_keys`` but has the shape of a ChatGPT
token names the account the request is served from (chat2api's convention)::

    Authorization: Bearer <access token | refresh token>[,<ChatGPT account id>]
    ChatGPT-Account-ID: <ChatGPT account id>      (optional; the comma form wins)

- an **access token** is a JWT whose claims carry ``https://api.openai.com/auth``; it is used as
  it is until its ``exp`` (an expired one is refused before anything goes upstream, a revoked
  one is refused by the upstream: both a 401 for the client);
- a **refresh token** (``rt_…``; any other non-JWT key with ``byo_opaque_refresh``) is spent at
  the token endpoint once, however many requests bring it together, and the access token it
  yields is kept until shortly before its ``exp``. Then the *rotated* refresh token that the
  exchange returned is spent: the client keeps sending its original token, which now only
  names the chain. A refused refresh token is remembered as refused (no second call).

Everything is remembered in this process only, keyed by the SHA-256 of the token, at most
``size`` entries per kind (least recently used out): never in the account store, the shared
state or a log line. A refresh token spent here cannot be spent again by another process or
instance (the token endpoint answers ``refresh_token_reused``), so with several workers clients
should send access tokens.

:class:`ByoAccounts` is also the dispatcher's :class:`~gptgate.dispatch.dispatcher.Credentials`
for these accounts: renewal before use, one re-exchange on a 401.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import aiohttp

from gptgate import errors
from gptgate.accounts import jwt
from gptgate.accounts.model import Account
from gptgate.accounts.oauth import RefreshRejected, RefreshUnavailable, TokenSet, refresh_tokens

log = logging.getLogger("gptgate.byo")
V = TypeVar("V")

Kind = Literal["access", "refresh"]
REFRESH_PREFIX = "rt_"
#: An exchanged access token this close to its expiry is renewed before use.
RENEW_MARGIN = 60.0
DEFAULT_SIZE = 10_000
_TOKEN = re.compile(r"[\x21-\x2b\x2d-\x7e]{20,16384}")  # printable ASCII, no space, no comma
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")

EXPIRED = "The ChatGPT access token you sent has expired: sign in again, or send a refresh token."
BAD_ACCOUNT_ID = "The ChatGPT account id sent with the token is malformed."


@dataclass(frozen=True, slots=True)
class Credential:
    """What a client presented: a token of a kind, and the workspace it asked for (or None)."""

    kind: Kind
    token: str = field(repr=False)
    account_id: str | None = None


@dataclass(slots=True, repr=False, eq=False)
class ByoAccount(Account):
    """A client's own account; ``chain`` is the key of the refresh grant it came from."""

    chain: str | None = None


@dataclass(slots=True, eq=False)
class Grant:
    """One refresh chain: the latest refresh token and the access token it gave."""

    refresh_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    version: int = 0
    rejected: str | None = None
    flight: asyncio.Task[None] | None = None
    accounts: dict[str | None, ByoAccount] = field(default_factory=dict)

    def take(self, tokens: TokenSet, now: float) -> None:
        """The rotated tokens, into the grant and every account served from it."""
        self.refresh_token = tokens.refresh_token or self.refresh_token
        self.access_token = tokens.access_token
        self.id_token = tokens.id_token or self.id_token
        self.expires_at = tokens.expires_at
        self.version += 1
        for account in self.accounts.values():
            sync(account, self, now)


def own_account(
    access_token: str, account_id: str | None, id_token: str | None, key: str, chain: str | None = None
) -> ByoAccount:
    """A client's account from its access token's claims; its id shows a hash, never a token."""
    claims = Account.from_tokens(access_token, account_id=account_id, id_token=id_token)
    return ByoAccount(
        access_token=access_token,
        account_id=claims.account_id,
        id_token=id_token,
        plan=claims.plan,
        email=claims.email,
        expires_at=claims.expires_at,
        name="byo",
        id="byo-" + key[:12],
        chain=chain,
    )


def sync(account: ByoAccount, grant: Grant, now: float | None = None) -> None:
    if account.token_version != grant.version and grant.access_token is not None:
        account.adopt_tokens(grant.access_token, None, grant.id_token, grant.expires_at, grant.version, now)


def token_kind(token: str, *, opaque_refresh: bool = False) -> Kind | None:
    """``access`` for a JWT with ChatGPT's auth claim, ``refresh`` for ``rt_…`` (or any other
    non-JWT with ``opaque_refresh``), None for anything else (an API key, say)."""
    if not _TOKEN.fullmatch(token):
        return None
    claims = jwt.claims(token)
    if claims:
        return "access" if isinstance(claims.get(jwt.AUTH_CLAIM), dict) else None
    if token.startswith(REFRESH_PREFIX) or opaque_refresh:
        return "refresh"
    return None


def parse_credential(
    presented: str, header_account: str | None = None, *, opaque_refresh: bool = False
) -> Credential | None:
    """The token in ``token`` or ``token,account_id`` (the account id may also come from the
    ``ChatGPT-Account-ID`` header); None when ``presented`` is no ChatGPT token."""
    token, comma, workspace = presented.rpartition(",")
    if not comma:
        token, workspace = presented, ""
    token = token.strip()
    kind = token_kind(token, opaque_refresh=opaque_refresh)
    if kind is None:
        return None
    account_id = workspace.strip() or (header_account or "").strip() or None
    if account_id is not None and not _ACCOUNT_ID.fullmatch(account_id):
        raise errors.AuthenticationError(BAD_ACCOUNT_ID, code="invalid_account_id")
    return Credential(kind, token, account_id)


def _digest(*parts: str | None) -> str:
    return hashlib.sha256("\0".join(p or "" for p in parts).encode()).hexdigest()


def _refused(reason: str) -> errors.AuthenticationError:
    return errors.AuthenticationError(
        f"The ChatGPT refresh token you sent was refused ({reason}): sign in again.",
        code="refresh_token_refused",
    )


class ByoAccounts:
    """The accounts of clients that bring their own tokens (see the module docstring)."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        timeout: float,
        size: int = DEFAULT_SIZE,
        opaque_refresh: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._timeout = timeout
        self._size = size
        self._opaque = opaque_refresh
        self._clock = clock
        self._accounts: OrderedDict[str, ByoAccount] = OrderedDict()
        self._grants: OrderedDict[str, Grant] = OrderedDict()
        self._http: aiohttp.ClientSession | None = None
        self.exchanges = 0  # token-endpoint calls (metrics, tests)

    def detect(self, presented: str, header_account: str | None = None) -> Credential | None:
        return parse_credential(presented, header_account, opaque_refresh=self._opaque)

    async def account(self, credential: Credential) -> ByoAccount:
        """The account ``credential`` names, exchanging a refresh token when needed. Raises
        AuthenticationError (expired or refused token) or UpstreamUnavailable (token endpoint)."""
        if credential.kind == "access":
            return self._access_account(credential)
        return await self._grant_account(credential)

    @property
    def cached(self) -> int:
        """Entries held (access-token accounts and refresh grants)."""
        return len(self._accounts) + len(self._grants)

    # -- access tokens
    def _access_account(self, credential: Credential) -> ByoAccount:
        key = _digest("access", credential.token, credential.account_id)
        account = self._accounts.get(key)
        if account is None:
            account = own_account(credential.token, credential.account_id, None, key)
            _remember(self._accounts, key, account, self._size)
        else:
            self._accounts.move_to_end(key)
        if account.expires_at is not None and account.expires_at <= self._clock():
            del self._accounts[key]
            raise errors.AuthenticationError(EXPIRED, code="token_expired")
        return account

    # -- refresh tokens
    async def _grant_account(self, credential: Credential) -> ByoAccount:
        key = _digest("refresh", credential.token)
        grant = self._grants.get(key)
        if grant is None:
            grant = Grant(refresh_token=credential.token)
            _remember(self._grants, key, grant, self._size)
        else:
            self._grants.move_to_end(key)
        await self._renew_if_due(grant)
        account = grant.accounts.get(credential.account_id)
        if account is None:
            assert grant.access_token is not None  # the renewal above raised otherwise
            account = own_account(grant.access_token, credential.account_id, grant.id_token, key, chain=key)
            account.expires_at = grant.expires_at or account.expires_at
            account.token_version = grant.version
            grant.accounts[credential.account_id] = account
        return account

    async def _renew_if_due(self, grant: Grant) -> None:
        if grant.rejected is not None:
            raise _refused(grant.rejected)
        now = self._clock()
        if grant.access_token is not None and (
            grant.expires_at is None or grant.expires_at - now > RENEW_MARGIN
        ):
            return
        try:
            await self._exchange(grant)
        except errors.UpstreamUnavailable:
            if grant.access_token is None or (grant.expires_at is not None and grant.expires_at <= now):
                raise  # otherwise the current access token serves until it expires

    async def _exchange(self, grant: Grant) -> None:
        """Spend the grant's refresh token: one call at a time per grant, joined by the rest."""
        if grant.flight is None:
            grant.flight = asyncio.ensure_future(self._spend(grant))
            grant.flight.add_done_callback(lambda task: _landed(grant, task))
        await asyncio.shield(grant.flight)  # a client hanging up must not lose a rotated token

    async def _spend(self, grant: Grant) -> None:
        self.exchanges += 1
        try:
            tokens = await refresh_tokens(
                self._session(),
                token_url=self._token_url,
                refresh_token=grant.refresh_token,
                client_id=self._client_id,
                timeout=self._timeout,
            )
        except RefreshRejected as exc:
            grant.rejected = exc.reason
            log.info("a client's refresh token was refused (%s)", exc.reason)
            raise _refused(exc.reason) from None
        except RefreshUnavailable as exc:
            raise errors.UpstreamUnavailable(
                "The token endpoint could not exchange the refresh token you sent; try again.",
                code="token_endpoint_unavailable",
                retry_after=exc.retry_after,
            ) from None
        grant.take(tokens, self._clock())

    # -- Credentials (called by the dispatcher)
    async def ensure_fresh(self, account: Account) -> None:
        grant = self._grant_of(account)
        if grant is not None and isinstance(account, ByoAccount):
            await self._renew_if_due(grant)
            sync(account, grant, self._clock())

    async def recover(self, account: Account, error: errors.AccountError, seen_version: int) -> bool:
        """On a 401, an account from a refresh token re-exchanges once (unless that happened
        meanwhile) and tries again; one from an access token has nothing to try."""
        grant = self._grant_of(account)
        if grant is None or not isinstance(account, ByoAccount):
            return False
        if not isinstance(error, errors.AccountUnauthorized) or grant.rejected is not None:
            return False
        if grant.version == seen_version:
            await self._exchange(grant)
        sync(account, grant, self._clock())
        return account.token_version != seen_version

    def _grant_of(self, account: Account) -> Grant | None:
        chain = account.chain if isinstance(account, ByoAccount) else None
        return self._grants.get(chain) if chain else None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def close(self) -> None:
        for grant in self._grants.values():
            if grant.flight is not None:
                grant.flight.cancel()
        if self._http is not None:
            await self._http.close()
        self._accounts.clear()
        self._grants.clear()


def _remember(cache: OrderedDict[str, V], key: str, value: V, size: int) -> None:
    cache[key] = value
    while len(cache) > size:
        cache.popitem(last=False)


def _landed(grant: Grant, task: asyncio.Task[None]) -> None:
    grant.flight = None
    if not task.cancelled():
        task.exception()  # retrieved: every waiter may have gone
