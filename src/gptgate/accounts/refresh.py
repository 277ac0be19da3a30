"""Token refresh: single-flight per account across coroutines, processes and instances.

One refresh of an account at a time, everywhere:

1. in this process, concurrent callers share one task;
2. across processes, the task holds the shared state's lock ``refresh:<id>``;
3. under the lock it re-reads the store: when the stored ``token_version`` moved past the one
   the caller saw, another process refreshed already and its tokens are adopted — no call;
4. otherwise it spends the refresh token, and stores the rotated tokens (compare-and-set on the
   version) *before* anything uses them, then tells the other processes to reload.

Every call leaves through the account's egress (the upstream transport and its proxy, as its
turns do), so the auth server sees each account from one address.

A dead grant (``invalid_grant``: reused, expired, revoked) marks the account "needs re-login"
and takes it out of rotation, except a lost rotation (``refresh_token_reused`` that no other
process stored): the web session revives the account where it has one, else it serves on its
still-valid access token until that expires; a transient failure of the token endpoint (5xx, network,
timeout) only cools it down briefly. The two are never confused: a re-login is never asked for
because the token endpoint had a bad minute.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import aiohttp

from gptgate.accounts.model import Account
from gptgate.accounts.oauth import (
    RefreshRejected,
    RefreshUnavailable,
    Route,
    TokenSet,
    Via,
    refresh_tokens,
)
from gptgate.accounts.session import exchange_session
from gptgate.observability import metrics
from gptgate.state.base import LockTimeout, PoolState
from gptgate.storage.base import AccountRecord, StaleTokenVersion, Store
from gptgate.upstreams.egress import Egress
from gptgate.upstreams.transport import Transport as Transport

log = logging.getLogger("gptgate.refresh")

Outcome = Literal["refreshed", "adopted", "rejected", "unavailable", "impossible"]
CHANNEL = "accounts"
#: Codes (from the backend or the token endpoint) that mean the account itself is gone.
DEACTIVATED_CODES = frozenset({"account_deactivated", "deactivated_workspace", "account_suspended"})
LOCK_TTL = 60.0
#: Without a shared lock (several workers, no Redis; the CLI beside a gateway) two processes may
#: spend the same refresh token; the loser hears "reused" and waits this long for the winner's
#: rotation in the store: the winner's answer and commit take milliseconds, 2 s covers a slow disk.
#: Only then is the rotation taken as lost (and revived by the web session where there is one).
REUSE_RECHECKS = 8
REUSE_RECHECK_PAUSE = 0.25
REUSED = "refresh_token_reused"
#: A lost rotation keeps an account serving on its access token only if it lives this much longer.
ORPHAN_MARGIN = 300.0


class Refresher:
    def __init__(
        self,
        state: PoolState,
        store: Store | None,
        *,
        token_url: str,
        client_id: str,
        timeout: float,
        session_url: str | None = None,
        transport: Transport | None = None,
        proxies: Sequence[str] = (),
    ) -> None:
        self.state = state
        self.store = store
        self._token_url = token_url
        self._client_id = client_id
        self._timeout = timeout
        self._session_url = session_url
        self._tasks: dict[str, asyncio.Task[Outcome]] = {}
        self._http: aiohttp.ClientSession | None = None
        #: the upstream transport and the egress proxies: auth calls leave as turns do
        self._transport = transport
        self._egress = Egress(proxies)
        #: token writes only (see ``_store_tokens``)
        self._writer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gptgate-tokens")
        self.calls = 0  # token-endpoint calls made by this process (metrics, tests)

    async def refresh(self, account: Account, seen_version: int | None = None) -> Outcome:
        """Refresh ``account`` unless someone already did since ``seen_version`` was read."""
        return await asyncio.shield(self._task(account, seen_version))

    def refresh_soon(self, account: Account) -> None:
        """Start a refresh in the background (the scheduler's way); joins one under way."""
        self._task(account, None)

    def _task(self, account: Account, seen_version: int | None) -> asyncio.Task[Outcome]:
        task = self._tasks.get(account.id)
        if task is None:
            seen = account.token_version if seen_version is None else seen_version
            task = asyncio.ensure_future(self._refresh(account, seen))
            self._tasks[account.id] = task
            task.add_done_callback(lambda done: self._done(account, done))
        return task

    def _done(self, account: Account, task: asyncio.Task[Outcome]) -> None:
        self._tasks.pop(account.id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("refresh of %s failed: %r", account.label(), task.exception())

    async def _refresh(self, account: Account, seen: int) -> Outcome:
        outcome = await self._attempt(account, seen)
        metrics.refresh_finished(outcome)
        return outcome

    async def _attempt(self, account: Account, seen: int) -> Outcome:
        if not account.refresh_token and not account.session_token and not account.stored:
            return "impossible"
        try:
            async with self.state.lock("refresh:" + account.id, LOCK_TTL, timeout=LOCK_TTL):
                return await self._locked(account, seen)
        except LockTimeout:
            log.warning("refresh of %s: another process holds the lock too long", account.label())
            return "unavailable"

    async def _locked(self, account: Account, seen: int) -> Outcome:
        if self.store is not None and account.stored:
            record = await asyncio.to_thread(self.store.get, account.id)
            if record is None:
                return "impossible"
            if record.token_version > seen or record.status != "active":
                adopt(account, record)
                return "adopted" if record.status == "active" else "rejected"
        self.calls += 1
        try:
            tokens = await self._new_tokens(account)
        except LookupError:  # nothing to renew it with: a new login once the access token expired
            if account.expires_at is not None and account.expires_at <= time.time():
                await self._needs_relogin(account, "no refresh or session token left")
                return "rejected"
            return "impossible"
        except RefreshRejected as exc:
            if exc.reason == REUSED and await self._rotated_elsewhere(account, seen):
                return "adopted"
            if exc.reason == REUSED and await self._revive(account):
                return "refreshed"
            if exc.reason != REUSED or not await self._orphan(account):
                await self._needs_relogin(account, exc.reason)
            return "rejected"
        except RefreshUnavailable as exc:
            log.warning("refresh of %s failed for now: %s", account.label(), exc)
            return "unavailable"
        await self._store_tokens(account, tokens)
        log.info("refreshed the tokens of %s", account.label())
        return "refreshed"

    async def _rotated_elsewhere(self, account: Account, seen: int) -> bool:
        """After "reused": did another process (without a shared lock) store the rotation?"""
        if self.store is None or not account.stored:
            return False
        for _ in range(REUSE_RECHECKS):
            record = await asyncio.to_thread(self.store.get, account.id)
            if record is not None and record.token_version > seen:
                adopt(account, record)
                return True
            await asyncio.sleep(REUSE_RECHECK_PAUSE)
        return False

    async def _revive(self, account: Account) -> bool:
        """A spent refresh token whose rotation never reached the store (a crash between the
        auth server's answer and the store's commit: the one window no ordering can close). The
        web session, when the account has one, still signs it in: take an access token from it
        and drop the dead refresh token (the account lives on its session from now on)."""
        if not (account.session_token and self._session_url):
            return False
        try:
            tokens = await exchange_session(
                self._via(account),
                base_url=self._session_url,
                session_token=account.session_token,
                timeout=self._timeout,
            )
        except (RefreshRejected, RefreshUnavailable) as exc:
            log.warning("account %s: its web session could not revive it either: %s", account.label(), exc)
            return False
        await self._store_tokens(account, tokens, keep_refresh=False)
        log.warning(
            "account %s: its refresh token was spent elsewhere (a lost rotation); revived by its web "
            "session, refresh token dropped",
            account.label(),
        )
        return True

    async def _orphan(self, account: Account) -> bool:
        """A lost rotation with no web session to revive it: the access token still works until
        it expires, so the account keeps serving on it (its dead refresh token dropped, never
        spent again) and its status reason asks for a new login before then."""
        if account.expires_at is None or account.expires_at - time.time() <= ORPHAN_MARGIN:
            return False
        until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(account.expires_at))
        reason = f"refresh token spent elsewhere (a lost rotation); serving until {until}: sign in again"
        account.status_reason = reason
        if self.store is not None and account.stored:  # before the tokens: their news carries it
            await asyncio.to_thread(self.store.set_status, account.id, "active", reason)
        kept = TokenSet(account.access_token, None, account.id_token, account.expires_at)
        await self._store_tokens(account, kept, keep_refresh=False)
        log.warning("account %s: %s", account.label(), reason)
        return True

    async def _new_tokens(self, account: Account) -> TokenSet:
        """Spend the refresh token, else the web session cookie (LookupError: neither)."""
        if account.refresh_token:
            return await refresh_tokens(
                self._via(account),
                token_url=self._token_url,
                refresh_token=account.refresh_token,
                client_id=self._client_id,
                timeout=self._timeout,
            )
        if account.session_token and self._session_url:
            return await exchange_session(
                self._via(account),
                base_url=self._session_url,
                session_token=account.session_token,
                timeout=self._timeout,
            )
        raise LookupError(account.id)

    async def _store_tokens(self, account: Account, tokens: TokenSet, *, keep_refresh: bool = True) -> None:
        """The rotated refresh token is durable before this returns (and before any use).

        The write goes to this refresher's own thread, never queued behind the gateway's other
        store work (usage rows, quota snapshots) in the shared pool: from the auth server's
        answer to the commit is the window a crash loses a rotation in, so nothing waits in it.
        """
        refresh_token = tokens.refresh_token or (account.refresh_token if keep_refresh else None)
        now = time.time()
        if self.store is not None and account.stored:
            try:
                record = await asyncio.get_running_loop().run_in_executor(
                    self._writer,
                    functools.partial(
                        self.store.update_tokens,
                        account.id,
                        access_token=tokens.access_token,
                        refresh_token=refresh_token,
                        id_token=tokens.id_token or account.id_token,
                        expires_at=tokens.expires_at,
                        expected_version=account.token_version,
                        refreshed_at=now,
                        session_token=tokens.session_token,
                    ),
                )
            except StaleTokenVersion:  # cannot happen under the lock unless its TTL ran out
                fresh = await asyncio.to_thread(self.store.get, account.id)
                if fresh is None:
                    return
                record = fresh
            adopt(account, record)
            await self.state.publish(CHANNEL, "tokens " + account.id)
            return
        account.adopt_tokens(
            tokens.access_token,
            refresh_token,
            tokens.id_token or account.id_token,
            tokens.expires_at,
            account.token_version + 1,
            now,
        )

    async def _needs_relogin(self, account: Account, reason: str) -> None:
        log.warning(
            "account %s needs a new login: the refresh token was refused (%s)", account.label(), reason
        )
        account.status = "needs_relogin"
        account.status_reason = f"refresh refused: {reason}"
        if self.store is not None and account.stored:
            await asyncio.to_thread(self.store.set_status, account.id, "needs_relogin", account.status_reason)
            await self.state.publish(CHANNEL, "status " + account.id)

    def _via(self, account: Account) -> Via:
        """The account's egress: the upstream transport through its proxy (a private aiohttp
        session only when no transport was given: unit tests, tools without upstreams)."""
        if self._transport is None:
            return self._session()
        return Route(self._transport, self._egress.proxy_for(account))

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        if self._http is not None:
            await self._http.close()
        self._writer.shutdown(wait=True)


def adopt(account: Account, record: AccountRecord) -> None:
    """Bring the runtime account up to date with its stored record (tokens, status, proxy)."""
    if record.access_token and record.token_version != account.token_version:
        account.adopt_tokens(
            record.access_token,
            record.refresh_token,
            record.id_token,
            record.expires_at,
            record.token_version,
            record.last_refresh_at,
        )
    account.status = record.status
    account.status_reason = record.status_reason
    account.proxy = record.proxy
    account.session_token = record.session_token
    account.upstreams = frozenset(record.upstreams) if record.upstreams is not None else None
