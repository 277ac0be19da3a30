"""Dispatch: lease an account, open the upstream, hold the answer until it is known to be good.

Before anything reaches the client the dispatcher may still change its mind: a credential-scoped
failure (usage limit, revoked token) cools the account and the request moves to the next one;
a transient one (5xx, network) is retried after a short backoff; a request-scoped one goes back
to the client with its own status. A message cap (a usage limit of one model) cools only the
(account, model) pair, named by the request's resolved model, so the account still serves others. To make that decision on failures that the upstream reports
*inside* a 200 stream (``response.failed`` right after ``response.created``), the preamble events
(created / in_progress) are held until the first content event. After that, no retries.

A call that carries the client's own account (``call.byo``, bring-your-own-token mode)
is served from that account alone: no pool lease, no other account; a token the upstream
refuses (401) is the client's 401, after one re-exchange when it came from a refresh token.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.accounts.pool import AccountPool
from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.canonical.failures import error_of_failed
from gptgate.canonical.fold import Folder
from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext, Observers
from gptgate.dispatch.deadlines import Deadlines
from gptgate.dispatch.session import session_for
from gptgate.types import JSONObject
from gptgate.upstreams.base import Upstream, UpstreamStream

log = logging.getLogger("gptgate.dispatch")

PREAMBLE = frozenset({ev.CREATED, ev.IN_PROGRESS, ev.QUEUED})
TERMINAL = ev.TERMINAL
FAILED = ev.FAILED
_monotonic = time.monotonic


class OpenStream:
    """An upstream answer that has passed the first-byte checks: ``first`` then the rest."""

    __slots__ = ("_batches", "_ended", "_pool", "_released", "_stream", "account", "call", "first")

    def __init__(
        self,
        stream: UpstreamStream,
        batches: AsyncIterator[list[Event]],
        first: list[Event],
        account: Account,
        pool: AccountPool | None,
        call: CallContext,
    ) -> None:
        self._stream = stream
        self._batches = batches
        self.first = first
        self.account = account
        self._pool = pool
        self._released = False
        self._ended = False  # the first events held the terminal one: nothing more to read
        self.call = call

    def __aiter__(self) -> OpenStream:
        return self

    async def __anext__(self) -> list[Event]:
        # An iterator, not an async generator: no generator object and no event-loop hooks per
        # stream. Nothing here holds a batch while the next upstream read is awaited: an idle
        # stream would otherwise keep its last events (bytes and parsed payloads) alive, the held
        # preamble (``response.created`` with the whole response object) above all.
        first = self.first
        if first:
            self.first = []
            if first[-1].type in TERMINAL:
                self.call.terminal = first[-1].data
                self._ended = True
            return first
        if self._ended:
            raise StopAsyncIteration
        batch = await self._batches.__anext__()
        # one look per batch (one upstream read), never per event: the terminal event ends a
        # batch, and it carries the usage the call is accounted by
        if batch and batch[-1].type in TERMINAL:
            self.call.terminal = batch[-1].data
        return batch

    async def fold(self) -> JSONObject:
        """Read the whole answer and fold it into the final response (non-stream replies)."""
        folder = Folder()
        try:
            async for batch in self:
                folder.feed(batch)
        finally:
            await self.aclose()
        return folder.response or dict(ev.ENDED_EARLY.data["response"])

    async def aclose(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            await self._stream.aclose()
        finally:
            pool = self._pool
            if pool is not None:  # a client's own account holds no lease
                shared = pool.release_now(self.account)
                if shared is not None:
                    await shared


class Credentials(Protocol):
    """What the dispatcher asks of the account manager (refresh, status changes)."""

    async def ensure_fresh(self, account: Account) -> None:
        """Refresh an access token that is about to expire (no-op otherwise)."""

    async def recover(self, account: Account, error: errors.AccountError, seen_version: int) -> bool:
        """Act on a credential failure (refresh on 401, disable when deactivated). True: retry
        the same account now; False: move on to another account. ``seen_version`` is the token
        version the failed attempt used (a refresh done meanwhile is not repeated)."""


class NoCredentials:
    async def ensure_fresh(self, account: Account) -> None:
        return None

    async def recover(self, account: Account, error: errors.AccountError, seen_version: int) -> bool:
        return False


class Dispatcher:
    def __init__(
        self,
        pool: AccountPool,
        upstreams: dict[str, Upstream],
        *,
        retry_times: int,
        first_byte_timeout: float,
        credentials: Credentials | None = None,
        own: Credentials | None = None,
        observers: Observers | None = None,
        default_upstream: str = "codex",
    ) -> None:
        self.pool = pool
        #: the upstream of a call whose path and model name none
        self.default_upstream = default_upstream
        #: limits admit calls here; usage and metrics read them when they close
        self.observers = observers if observers is not None else Observers()
        self.upstreams = upstreams
        self.credentials: Credentials = credentials or NoCredentials()
        #: the credentials' ``ensure_fresh_now`` where they have one (no coroutine for a fresh
        #: token), else their ``ensure_fresh``; what it returns is awaited
        self._ensure_fresh: Callable[[Account], Awaitable[object] | None] = getattr(
            self.credentials, "ensure_fresh_now", self.credentials.ensure_fresh
        )
        #: renewal of clients' own accounts (refresh-token exchanges), bring-your-own-token mode
        self.own: Credentials = own if own is not None else NoCredentials()
        self._retries = retry_times
        self._first_byte_timeout = first_byte_timeout
        #: the first-event deadlines of the loop this dispatcher serves in (made in it)
        self._deadlines: Deadlines | None = None

    def upstream_for(self, request: CanonicalRequest, call: CallContext) -> Upstream:
        name = call.upstream or self.default_upstream
        upstream = self.upstreams.get(name)
        if upstream is None:
            raise errors.NotFoundError(
                f"The {name} upstream is not configured on this gateway.", code="upstream_not_configured"
            )
        call.upstream = call.upstream or upstream.name  # type: ignore[assignment]
        return upstream

    async def open(self, request: CanonicalRequest, call: CallContext) -> OpenStream:
        """An open stream, or the error the client should get (after bounded retries).

        An account's steps (a refresh, the attempt, one more try after a refused token) are
        written out in the loop, not a coroutine level below it: every level costs each time
        the request is suspended and resumed."""
        call.door = request.origin
        call.model = model = request.model  # message caps cool (account, model) pairs by this name
        call.session = key = session_for(request, call)  # derived when the client sent none
        # the upstream before admission: keys may limit upstreams
        serves = call.upstream
        upstream = self.upstreams.get(serves or self.default_upstream)
        if upstream is None:
            upstream = self.upstream_for(request, call)  # raises: not configured
        if serves is None:
            call.upstream = serves = upstream.name  # type: ignore[assignment]
        admitting = self.observers.admit_now(call, request)
        if admitting is not None:
            await admitting
        if call.byo is not None:
            return await self._open_own(upstream, request, call, call.byo)
        pool = self.pool
        credentials = self.credentials
        ensure_fresh = self._ensure_fresh
        tried: set[str] | None = None  # made by the first failure (most calls have none)
        last: errors.UpstreamError | None = None
        for attempt in range(self._retries + 1):
            # PoolExhausted when every account is cooling, NoUsableAccount when none can serve
            account = pool.acquire_now(key, tried, serves, model) or await pool.acquire(
                key, tried, serves, model
            )
            call.account = account
            try:
                refreshing = ensure_fresh(account)  # None: the token is fresh
                if refreshing is not None:
                    await refreshing
                version = account.token_version
                try:
                    opened = await self._attempt(upstream, request, call, account, pool)
                except errors.AccountError as exc:  # a 401 is answered by one refresh and one more try
                    if not await credentials.recover(account, exc, version):
                        raise
                    opened = await self._attempt(upstream, request, call, account, pool)
            except errors.AccountError as exc:
                await pool.release(account)
                await pool.penalize(account, exc, model)
                tried = {account.id} if tried is None else tried | {account.id}
                last = exc
            except errors.UpstreamError as exc:
                await pool.release(account)
                if not exc.retryable or attempt == self._retries:
                    raise
                if isinstance(exc, errors.UpstreamRateLimited):
                    await pool.penalize(account, exc)
                    tried = {account.id} if tried is None else tried | {account.id}
                # else transient: the same account may serve the retry
                last = exc
                await asyncio.sleep(_backoff(attempt, exc.retry_after))
            except BaseException:
                await pool.release(account)
                raise
            else:
                if account.strikes:
                    pool.succeeded(account)  # its probation strikes are forgiven
                return opened
        await pool.release(
            await pool.acquire(None, tried, serves, model)
        )  # PoolExhausted (limits) or NoUsableAccount (503) if none left
        assert last is not None  # the loop ran at least once, and only failures stay in it
        raise errors.UpstreamUnavailable(
            f"{self._retries + 1} attempt(s) failed on different accounts; last: {last.message}",
            code="retries_exhausted",
        )

    async def _open_own(
        self, upstream: Upstream, request: CanonicalRequest, call: CallContext, account: Account
    ) -> OpenStream:
        """The client's own account: transient failures retried on it, a refused token a 401."""
        for attempt in range(self._retries + 1):
            try:
                return await self._on_account(upstream, request, call, account, self.own, None)
            except errors.AccountUnauthorized as exc:
                raise errors.AuthenticationError(
                    f"ChatGPT refused the token you sent: {exc.message}", code=exc.code or "invalid_token"
                ) from None
            except errors.UpstreamError as exc:
                if isinstance(exc, errors.AccountError) or not exc.retryable or attempt == self._retries:
                    raise
                await asyncio.sleep(_backoff(attempt, exc.retry_after))
        raise AssertionError("unreachable")  # the last attempt returned or raised

    async def _on_account(
        self,
        upstream: Upstream,
        request: CanonicalRequest,
        call: CallContext,
        account: Account,
        credentials: Credentials,
        pool: AccountPool | None,
    ) -> OpenStream:
        """One account's attempt; a 401 is answered by one refresh and one more try."""
        call.account = account
        await credentials.ensure_fresh(account)
        version = account.token_version
        try:
            return await self._attempt(upstream, request, call, account, pool)
        except errors.AccountError as exc:
            if not await credentials.recover(account, exc, version):
                raise
        return await self._attempt(upstream, request, call, account, pool)

    async def _attempt(
        self,
        upstream: Upstream,
        request: CanonicalRequest,
        call: CallContext,
        account: Account,
        pool: AccountPool | None,
    ) -> OpenStream:
        # first_byte_timeout bounds the wait for the first event: from the request when the
        # upstream does not time its own opening, else from its answer. The deadline cancels this
        # task when due, as ``asyncio.timeout`` does, without its two context-manager coroutines
        # and state machine, and without a timer of its own (``Deadlines``: one for all attempts).
        task = asyncio.current_task()
        assert task is not None
        deadlines = self._deadlines
        if deadlines is None or deadlines.loop is not task.get_loop():
            deadlines = self._deadlines = Deadlines(task.get_loop(), self._first_byte_timeout)
        own = upstream.times_open
        deadline = None if own else deadlines.start(task)
        stream: UpstreamStream | None = None
        try:
            stream = await upstream.open(request, account)
            if own:
                deadline = deadlines.start(task)
            batches = stream.batches()
            # the first events, held until one past the preamble (or the end): the preamble only
            # ever opens a stream, so a batch past it ends with an event past it
            first: list[Event] = []
            async for batch in batches:
                first += batch
                if batch[-1].type not in PREAMBLE:
                    break
        except BaseException as exc:
            if deadline is not None:
                deadlines.stop(deadline)
            # ours when the deadline fired and no other cancellation is pending (asyncio.timeout's rule)
            timed_out = isinstance(exc, TimeoutError) or (
                deadline is not None
                and deadline.fired
                and isinstance(exc, asyncio.CancelledError)
                and task.uncancel() == 0
            )
            if stream is not None:
                await stream.aclose()
            if timed_out:
                raise errors.UpstreamTimeout("the upstream sent no first event in time") from exc
            raise
        if deadline is not None:
            deadlines.stop(deadline)
            if deadline.fired:  # it fired as the first event came: no cancellation is delivered
                task.uncancel()  # (as asyncio.timeout)
        if first and first[-1].type == FAILED and not _has_content(first):
            await stream.aclose()
            raise error_of_failed(first[-1].data.get("response") or {})
        call.first_event_at = _monotonic()
        return OpenStream(stream, batches, first, account, pool, call)


def _has_content(events: list[Event]) -> bool:
    return any(e.type not in PREAMBLE and e.type not in ev.TERMINAL for e in events)


def _backoff(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None and retry_after <= 5:
        return float(retry_after)
    return 0.2 * (2.0**attempt) * random.uniform(0.9, 1.1)
