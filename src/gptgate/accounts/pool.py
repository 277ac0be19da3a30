"""Pick an account per request; keep sessions on one account; cool accounts down.

The pool holds the runtime ``Account`` objects of this process; what every process must agree
on (cooldowns, in-flight leases, the sticky map) lives in the shared :class:`PoolState`
(in-process by default, Redis for several workers or instances).

Per request: the session key (``prompt_cache_key``, Claude Code's session, ``session_id``)
first picks the account it is bound to, if that one is still healthy; otherwise the strategy
picks among the healthy accounts and the key is bound to the choice, so the upstream's prompt
cache stays warm on one account and moves only when it must.

Message caps (the web upstream's per-model limits, ``UsageLimitReached`` with a ``model``) cool
one (account, model) pair, not the account: the shared cooldowns hold them under the key
``"<account id>/<model>"`` (``pair_key``), and ``acquire`` for a model skips the accounts whose
pair for it is cooling. When every account is capped for the model, the 429 names it.

Failures and what they do to an account (each one is scoped: one error never parks what is
healthy, and only a limit the upstream reported is answered as a limit):

- a usage limit: cooled until its ``resets_at``; a rate limit: its ``retry-after`` (else 30 s);
- a refused token (401 after one refresh and retry) or a 403 with no lasting code: *probation*,
  a short cool-down that doubles with each consecutive strike (2 s, 4 s, ... at most 60 s) and
  ends at the next success, so the account is probed again within seconds, never parked;
- a 403 that lasts (``usage_not_included``: the plan lacks the service): 5 minutes;
- anything else credential-scoped (the egress proxy failed, the token endpoint was down): its
  ``retry_after`` (else 30 s).

When no account can serve, the answer says why: a 429 ``pool_exhausted`` only when every
blocking cool-down is a usage or rate limit (or a message cap); otherwise a 503
``accounts_unavailable`` with ``Retry-After`` (an outage is not the client's rate limit).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from gptgate import errors
from gptgate.accounts.model import Account, QuotaWindow
from gptgate.observability import metrics
from gptgate.state.base import Cooldown, PoolState
from gptgate.state.memory import MemoryState

log = logging.getLogger("gptgate.pool")

Strategy = Literal["round_robin", "random", "least_busy", "quota_headroom"]
STRATEGIES: tuple[Strategy, ...] = ("round_robin", "random", "least_busy", "quota_headroom")

#: Cool-down for failures that carry no reset time (5xx, network, rate limit).
SHORT_COOLDOWN = 30.0
#: Probation after a refused token: the first strike's cool-down, doubling up to the cap.
PROBATION_FIRST = 2.0
PROBATION_MAX = 60.0
PROBATION_REASON = "probation"
MODEL_CAP_REASON = "model_cap_exceeded"
#: Cool-down reasons that are limits: only these make "no account can serve" a 429.
LIMIT_REASONS = frozenset({"usage_limit_reached", "rate_limit_exceeded", MODEL_CAP_REASON})
#: 403 codes that last (the plan does not include the service): not probation, a long cool-down.
LASTING_FORBIDDEN = frozenset({"usage_not_included"})
LASTING_COOLDOWN = 300.0


def pair_key(account_id: str, model: str) -> str:
    """The shared cooldown key of one (account, model) pair (account ids hold no ``/``-suffix
    that could collide: a plain account's key is its id, a pair's always ends in ``/<model>``)."""
    return f"{account_id}/{model}"


def model_caps(cooling: Mapping[str, Cooldown], account_id: str) -> dict[str, float]:
    """The models ``account_id`` is capped for, each with the time (epoch s) its cap clears."""
    prefix = account_id + "/"
    return {k[len(prefix) :]: c.until for k, c in cooling.items() if k.startswith(prefix)}


def _capped(cooling: Mapping[str, Cooldown], model: str | None) -> set[str]:
    """Ids of the accounts whose pair for ``model`` is cooling (none when no pair cools at all)."""
    if not model or not cooling:
        return set()
    suffix = "/" + model
    return {k[: -len(suffix)] for k in cooling if k.endswith(suffix)}


class AccountPool:
    def __init__(
        self,
        accounts: list[Account],
        state: PoolState | None = None,
        *,
        strategy: Strategy = "round_robin",
        sticky_ttl: float = 3600.0,
    ) -> None:
        self.accounts = list(accounts)
        self.state: PoolState = state if state is not None else MemoryState()
        self.strategy = strategy
        self.sticky_ttl = sticky_ttl
        self._next = 0
        self._pick: Callable[[list[Account]], Account] = self._round_robin
        #: the in-process state, called without a coroutine per call on the hot path (None: a
        #: shared state such as Redis, awaited)
        self._local = self.state if type(self.state) is MemoryState else None

    # -- membership (the account manager keeps these current)
    def get(self, account_id: str) -> Account | None:
        for account in self.accounts:  # a loop, not next() over a generator: once per request
            if account.id == account_id:
                return account
        return None

    def put(self, account: Account) -> None:
        """Add ``account`` or replace the one with its id."""
        for i, existing in enumerate(self.accounts):
            if existing.id == account.id:
                account.in_flight = existing.in_flight
                self.accounts[i] = account
                return
        self.accounts.append(account)

    def drop(self, account_id: str) -> None:
        self.accounts = [a for a in self.accounts if a.id != account_id]

    # -- the hot path
    async def acquire(
        self,
        session_key: str | None = None,
        exclude: set[str] | None = None,
        upstream: str | None = None,
        model: str | None = None,
    ) -> Account:
        """A healthy account not in ``exclude`` (ids already tried) that may serve ``upstream``
        and is not capped for ``model``, leased until ``release``."""
        account = self.acquire_now(session_key, exclude, upstream, model)
        if account is not None:
            return account
        state = self.state  # shared (Redis): each read awaited, then the same pick
        cooling = await state.cooldowns()
        bound = await state.sticky_get(session_key, self.sticky_ttl) if session_key else None
        busy = await state.in_flight() if self._reads_busy(self.accounts) else None
        account, bind = self._account_for(cooling, exclude, upstream, model, bound, lambda: busy or {})
        if bind and session_key:
            await state.sticky_set(session_key, account.id, self.sticky_ttl)
        return await self._lease(account)

    def acquire_now(
        self,
        session_key: str | None = None,
        exclude: set[str] | None = None,
        upstream: str | None = None,
        model: str | None = None,
    ) -> Account | None:
        """``acquire`` by plain calls when the state is in-process (no coroutine); None when it
        is shared (then ``acquire`` must be awaited)."""
        local = self._local
        if local is None:
            return None
        bound = local.sticky_get_now(session_key, self.sticky_ttl) if session_key else None
        account, bind = self._account_for(
            local.cooldowns_now(), exclude, upstream, model, bound, local.in_flight_now
        )
        if bind and session_key:
            local.sticky_set_now(session_key, account.id, self.sticky_ttl)
        account.in_flight += 1
        local.lease_now(account.id)
        return account

    def _account_for(
        self,
        cooling: dict[str, Cooldown],
        exclude: set[str] | None,
        upstream: str | None,
        model: str | None,
        bound: str | None,
        busy: Callable[[], dict[str, int]],
    ) -> tuple[Account, bool]:
        """The account to lease, whatever the state: the session's bound one while it is
        healthy, else the strategy's pick; and whether the session is to be bound to it.
        ``busy`` gives the leases by account (read only by least_busy among several)."""
        if model and cooling:  # (_capped's own first test, without its call when nothing cools)
            capped = _capped(cooling, model)
            if capped:
                exclude = capped | exclude if exclude else capped
        if bound:
            account = self.get(bound)
            if account is not None and _healthy(account, cooling, exclude, upstream):
                return account, False
        if self.strategy == "round_robin":  # the default: no list per request, however large the pool
            account = self._next_healthy(cooling, exclude, upstream)
            if account is None:
                raise self._exhausted(cooling, time.time(), upstream, model)
        else:
            healthy = [a for a in self.accounts if _healthy(a, cooling, exclude, upstream)]
            if not healthy:
                raise self._exhausted(cooling, time.time(), upstream, model)
            account = self._choose(healthy, busy() if self._reads_busy(healthy) else None)
        return account, True

    async def release(self, account: Account) -> None:
        account.in_flight -= 1
        if self._local is not None:
            self._local.unlease_now(account.id)
        else:
            await self.state.unlease(account.id)

    def release_now(self, account: Account) -> Awaitable[None] | None:
        """``release`` without a coroutine when the state is in-process; else the shared
        state's release, to be awaited."""
        account.in_flight -= 1
        local = self._local
        if local is None:
            return self.state.unlease(account.id)
        local.unlease_now(account.id)
        return None

    async def _lease(self, account: Account) -> Account:
        account.in_flight += 1
        await self.state.lease(account.id)
        return account

    def _reads_busy(self, healthy: list[Account]) -> bool:
        """Whether ``_choose`` needs the leases by account (least_busy, among several)."""
        return self.strategy == "least_busy" and len(healthy) > 1

    def _choose(self, healthy: list[Account], busy: dict[str, int] | None) -> Account:
        """The strategy's pick among ``healthy`` (``busy``: the leases by account, least_busy only)."""
        if len(healthy) == 1:
            return healthy[0]
        if self.strategy == "random":
            return random.choice(healthy)
        if self.strategy == "least_busy" and busy is not None:
            low = min(busy.get(a.id, 0) for a in healthy)
            return self._round_robin([a for a in healthy if busy.get(a.id, 0) == low])
        if self.strategy == "quota_headroom":
            now = time.time()
            best = max(_headroom(a, now) for a in healthy)
            return self._round_robin([a for a in healthy if _headroom(a, now) == best])
        return self._round_robin(healthy)

    def _next_healthy(
        self, cooling: dict[str, Cooldown], exclude: set[str] | None, upstream: str | None
    ) -> Account | None:
        accounts = self.accounts
        n = len(accounts)
        start = self._next
        for i in range(n):
            account = accounts[(start + i) % n]
            if _healthy(account, cooling, exclude, upstream):
                self._next = (start + i + 1) % n
                return account
        return None

    def _round_robin(self, candidates: list[Account]) -> Account:
        """The first candidate at or after the rotating cursor (in pool order)."""
        n = len(self.accounts)
        wanted = {a.id for a in candidates}
        for i in range(n):
            account = self.accounts[(self._next + i) % n]
            if account.id in wanted:
                self._next = (self._next + i + 1) % n
                return account
        return candidates[0]

    # -- failures
    async def penalize(
        self, account: Account, error: errors.AccountError | errors.UpstreamError, model: str | None = None
    ) -> None:
        """Cool an account down after a credential-scoped or transient failure; a message cap
        (a usage limit of one model) cools only the pair of the account and ``model`` (the
        call's model name, as ``acquire`` is given it; else the one the error names)."""
        if isinstance(error, errors.UsageLimitReached) and error.model is not None:
            await self._cap(account, model or error.model, error)
            return
        if isinstance(error, errors.UsageLimitReached) and error.resets_at:
            until, reason = error.resets_at, error.code or error.type
        elif _probation(error) and error.retry_after is None:
            account.strikes += 1
            until = time.time() + probation_for(account.strikes)
            reason = PROBATION_REASON
        else:
            lasting = isinstance(error, errors.AccountForbidden) and error.code in LASTING_FORBIDDEN
            until = time.time() + (error.retry_after or (LASTING_COOLDOWN if lasting else SHORT_COOLDOWN))
            reason = error.code or error.type
        account.cooldown_until = max(account.cooldown_until, until)
        account.cooldown_reason = reason
        await self.state.set_cooldown(account.id, until, reason)
        metrics.cooldown_started(reason)
        log.warning("account %s cooling down for %d s: %s", account.label(), until - time.time(), reason)

    def succeeded(self, account: Account) -> None:
        """The account served: its probation strikes are forgiven."""
        if account.strikes:
            account.strikes = 0
            log.info("account %s is off probation", account.label())

    async def _cap(self, account: Account, model: str, error: errors.UsageLimitReached) -> None:
        until = error.resets_at or time.time() + (error.retry_after or SHORT_COOLDOWN)
        await self.state.set_cooldown(pair_key(account.id, model), until, MODEL_CAP_REASON)
        metrics.cooldown_started(MODEL_CAP_REASON)
        log.warning("account %s capped for model %s for %d s", account.label(), model, until - time.time())

    def _exhausted(
        self, cooling: dict[str, Cooldown], now: float, upstream: str | None, model: str | None = None
    ) -> errors.GatewayError:
        members = [a for a in self.accounts if a.serves(upstream)]
        usable = [a for a in members if a.usable]
        if not usable:
            if not self.accounts:
                return errors.NoUsableAccount("no ChatGPT account is configured (see: gptgate accounts add)")
            if not members:
                return errors.NoUsableAccount(f"no account of this gateway may serve the {upstream} upstream")
            counts: dict[str, int] = {}
            for a in members:
                counts[a.status] = counts.get(a.status, 0) + 1
            summary = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items()))
            return errors.NoUsableAccount(
                f"no account can serve: {summary} (see: gptgate accounts list)", retry_after=300
            )
        capped = [
            cooling[pair_key(a.id, model)] for a in usable if model and pair_key(a.id, model) in cooling
        ]
        if capped and len(capped) == len(usable):
            return _all_capped(capped, now, str(model))
        ends = [cooling[a.id] for a in usable if a.id in cooling] + capped
        if not ends:  # every usable account was tried by this request already
            return errors.NoUsableAccount(
                f"all {len(usable)} usable account(s) failed this request",
                code="accounts_unavailable",
                retry_after=PROBATION_FIRST,
            )
        earliest = float(math.ceil(max(1.0, min(c.until for c in ends) - now)))
        reasons = sorted({c.reason for c in ends})
        if not LIMIT_REASONS.issuperset(reasons):
            return errors.NoUsableAccount(
                f"no account can serve right now: all {len(usable)} account(s) are cooling down "
                f"({', '.join(reasons)}); the earliest is available again in {int(earliest)} s",
                code="accounts_unavailable",
                retry_after=earliest,
            )
        return errors.PoolExhausted(
            f"the account pool is exhausted: all {len(usable)} account(s) are cooling down "
            f"({', '.join(reasons)}); the earliest is available again in {int(earliest)} s",
            retry_after=earliest,
        )


def probation_for(strikes: int) -> float:
    """The cool-down of the ``strikes``-th consecutive refused token (1, 2, ...)."""
    return min(PROBATION_MAX, PROBATION_FIRST * 2.0 ** max(0, strikes - 1))


def _probation(error: errors.AccountError | errors.UpstreamError) -> bool:
    if isinstance(error, errors.AccountUnauthorized):
        return True
    return isinstance(error, errors.AccountForbidden) and error.code not in LASTING_FORBIDDEN


def _all_capped(caps: list[Cooldown], now: float, model: str) -> errors.PoolExhausted:
    """Every account reached its message cap for ``model`` (chat2api's ENABLE_LIMIT answer)."""
    wait = max(1.0, min(c.until for c in caps) - now)
    return errors.PoolExhausted(
        f"every account ({len(caps)}) reached its message cap for the model {model}; the earliest "
        f"cap clears in {int(wait)} s (other models may still be served)",
        code=MODEL_CAP_REASON,
        retry_after=wait,
    )


def _healthy(
    account: Account, cooling: dict[str, Cooldown], exclude: set[str] | None, upstream: str | None = None
) -> bool:
    return (
        account.usable
        and account.id not in cooling
        and not (exclude and account.id in exclude)
        and (upstream is None or account.upstreams is None or upstream in account.upstreams)
    )


def _headroom(account: Account, now: float) -> float:
    """Percent left in the tighter of the account's windows; a window past its reset is full."""
    return 100.0 - max(_used(account.quota.primary, now), _used(account.quota.secondary, now))


def _used(window: QuotaWindow | None, now: float) -> float:
    if window is None or (window.resets_at is not None and window.resets_at <= now):
        return 0.0
    return window.used_percent
