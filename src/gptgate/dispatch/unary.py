"""Unary calls on a pool account: Codex's remote compaction and standalone web search.

A turn streams and goes through :class:`Dispatcher.open`; these answer one JSON document, so
there is no first byte to hold back, but the same rules apply before the answer: the call is
admitted by the key's limits, the thread's sticky account serves it when healthy, an
account-scoped failure cools that account and the call moves on, a 401 is answered by one
refresh, a transient failure is retried. A client's own account (bring-your-own-token) serves
its calls alone.

What a compaction returns is encrypted for the account that made it: a later turn carrying
it must go to that account. So a call that succeeds binds its session key (the thread) to the
account that answered, in the pool's sticky map, for the pool's sticky TTL (sliding with every
turn of the thread).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext
from gptgate.dispatch.dispatcher import Credentials, Dispatcher
from gptgate.dispatch.session import session_for
from gptgate.upstreams.base import UnaryEndpoints, UnaryReply

__all__ = ["Send", "UnaryEndpoints", "UnaryReply", "call_unary"]

#: one upstream call on one account
Send = Callable[[UnaryEndpoints, Account], Awaitable[UnaryReply]]


async def call_unary(
    dispatcher: Dispatcher, call: CallContext, request: CanonicalRequest, send: Send, *, retries: int
) -> UnaryReply:
    """``send`` on the thread's account (or the next healthy one), after admission; the answer
    or the error the client should get. ``request`` carries the model and the session key."""
    call.door = request.origin
    call.model = request.model
    call.session = session_for(request, call)
    upstream = dispatcher.upstream_for(request, call)
    if not isinstance(upstream, UnaryEndpoints):
        raise errors.NotFoundError(
            f"The {upstream.name} upstream has no such endpoint.", code="upstream_not_supported"
        )
    await dispatcher.observers.admit(call, request)
    if call.byo is not None:
        return await _own(dispatcher.own, upstream, call.byo, send, retries)
    pool = dispatcher.pool
    tried: set[str] = set()
    last: errors.UpstreamError | None = None
    for attempt in range(retries + 1):
        account = await pool.acquire(call.session, tried, call.upstream, request.model)
        tried.add(account.id)
        call.account = account
        try:
            reply = await _on_account(dispatcher.credentials, upstream, account, send)
        except errors.AccountError as exc:
            await pool.penalize(account, exc, request.model)
            last = exc
            continue
        except errors.UpstreamError as exc:
            if not exc.retryable or attempt == retries:
                raise
            if isinstance(exc, errors.UpstreamRateLimited):
                await pool.penalize(account, exc)
            else:
                tried.discard(account.id)
            last = exc
            await asyncio.sleep(_backoff(attempt, exc.retry_after))
            continue
        finally:
            await pool.release(account)
        if call.session:  # what it made is bound to it: the thread's next turns go there
            await pool.state.sticky_set(call.session, account.id, pool.sticky_ttl)
        return reply
    await pool.release(await pool.acquire(None, tried, call.upstream, request.model))  # exhausted?
    message = last.message if last is not None else "no attempt was made"
    raise errors.UpstreamUnavailable(
        f"{retries + 1} attempt(s) failed on different accounts; last: {message}", code="retries_exhausted"
    )


async def _on_account(
    credentials: Credentials, upstream: UnaryEndpoints, account: Account, send: Send
) -> UnaryReply:
    """One account's attempt; a 401 is answered by one refresh and one more try."""
    await credentials.ensure_fresh(account)
    version = account.token_version
    try:
        return await send(upstream, account)
    except errors.AccountError as exc:
        if not await credentials.recover(account, exc, version):
            raise
    return await send(upstream, account)


async def _own(
    credentials: Credentials, upstream: UnaryEndpoints, account: Account, send: Send, retries: int
) -> UnaryReply:
    """The client's own account: transient failures retried on it, a refused token a 401."""
    for attempt in range(retries + 1):
        try:
            return await _on_account(credentials, upstream, account, send)
        except errors.AccountUnauthorized as exc:
            raise errors.AuthenticationError(
                f"ChatGPT refused the token you sent: {exc.message}", code=exc.code or "invalid_token"
            ) from None
        except errors.UpstreamError as exc:
            if isinstance(exc, errors.AccountError) or not exc.retryable or attempt == retries:
                raise
            await asyncio.sleep(_backoff(attempt, exc.retry_after))
    raise AssertionError("unreachable")  # the last attempt returned or raised


def _backoff(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None and retry_after <= 5:
        return float(retry_after)
    return 0.2 * (2.0**attempt) * random.uniform(0.9, 1.1)
