"""Per-key limits, enforced as a ``CallObserver``: admitted in dispatch, given back at close.

``admit`` (after the model is resolved, before an account is leased) checks, in order: allowed
models (globs against the name the client sent and the upstream model), allowed upstreams, the
reasoning effort (clamped down to ``max_effort``, never refused), then in ONE shared-state call
(one Redis script): requests this minute, tokens this minute, the day / week / month budgets
and a concurrency slot. ``call_closed`` gives the slot back and adds the call's tokens to the
windows in one more call. Nothing runs per stream event and the store is not queried on the
hot path: a budget window's spend is read from the usage table once per key and window in a
process (after a restart the shared counter may be gone), and seeded only where no other
process keeps the counter already.

Windows are UTC calendar windows (minute, day, ISO week from Monday, month), so a refusal's
``Retry-After`` is exactly the time until the window that refused ends; a concurrency refusal
says 1 s (streams end when they end).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from gptgate.errors import KeyLimitExceeded, PermissionDenied
from gptgate.keys.model import EFFORTS, ClientKey, KeyLimits
from gptgate.observability.metrics import limit_refused
from gptgate.state.base import Check, PoolState, Slot
from gptgate.state.memory import MemoryState

if TYPE_CHECKING:
    from gptgate.canonical.request import CanonicalRequest
    from gptgate.dispatch.context import CallContext
    from gptgate.storage import Store

log = logging.getLogger("gptgate.keys")

#: A slot not given back (its process hung) frees itself after this long; a crashed process's
#: slots go sooner with Redis (its registration lapses, see ``state/scripts.py``).
SLOT_TTL = 3600.0
BUDGETS = (("daily_tokens", "day"), ("weekly_tokens", "week"), ("monthly_tokens", "month"))
#: an effort below this is what an upstream picks when none is sent
DEFAULT_EFFORT = "medium"
#: ceilings that leave a request naming no effort alone (``clamp_effort`` has nothing to do)
_DEFAULT_OR_ABOVE = frozenset(EFFORTS[EFFORTS.index(DEFAULT_EFFORT) :])


#: the day / week / month windows last computed, reused while ``now`` is inside them (calendar
#: arithmetic with datetime objects cost ~7 µs a window, several times per call)
_WINDOWS: dict[str, tuple[float, float]] = {}


def window(kind: str, now: float) -> tuple[float, float]:
    """(start, end) in epoch seconds of the UTC calendar window ``minute``/``day``/``week``/``month``."""
    if kind == "minute":
        start = now // 60 * 60
        return start, start + 60
    known = _WINDOWS.get(kind)
    if known is not None and known[0] <= now < known[1]:
        return known
    _WINDOWS[kind] = span = _calendar(kind, now)
    return span


def _calendar(kind: str, now: float) -> tuple[float, float]:
    day = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "day":
        return day.timestamp(), (day + timedelta(days=1)).timestamp()
    if kind == "week":
        monday = day - timedelta(days=day.weekday())
        return monday.timestamp(), (monday + timedelta(days=7)).timestamp()
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first.timestamp(), following.timestamp()


class KeyLimiter:
    """The limits observer (``gateway.observers``)."""

    def __init__(self, state: PoolState, store: Store | None, *, slot_ttl: float = SLOT_TTL) -> None:
        self.state = state
        self.store = store
        self._slot_ttl = slot_ttl
        #: slots held by calls of this process, by request id
        self._held: dict[str, Slot] = {}
        #: budget windows whose spend this process has seeded from the store
        self._seeded: set[str] = set()
        #: per key: what every call of it within a minute checks and counts (see ``_Plan``),
        #: built once a minute, not per call (a changed key is a new ClientKey object: its plan
        #: is rebuilt at once)
        self._plans: dict[str, _Plan] = {}
        #: the in-process state, called without a coroutine per call (None: a shared state such
        #: as Redis, awaited)
        self._local = state if type(state) is MemoryState else None

    def admit_now(self, call: CallContext, request: CanonicalRequest) -> Awaitable[None] | None:
        """``admit`` by plain calls where nothing is awaited (a call without a key; a keyed one on
        in-process state while its key's plan holds); else what is left of it, to await."""
        key = call.key
        if key is None:
            return None
        limits = key.limits
        if limits.models:
            _check_model(key, request)
        if limits.upstreams:
            _check_upstream(key, call.upstream or "codex")
        max_effort = limits.max_effort
        if max_effort is not None and (request.reasoning or max_effort not in _DEFAULT_OR_ABOVE):
            clamp_effort(request, max_effort)
        now = time.time()
        plan = self._plans.get(key.id)
        if plan is None or plan.key is not key or now >= plan.until:
            return self._admit_planned(call, key, now)
        return self._admit_by(plan, call, key, now)

    async def admit(self, call: CallContext, request: CanonicalRequest) -> None:
        pending = self.admit_now(call, request)
        if pending is not None:
            await pending

    async def _admit_planned(self, call: CallContext, key: ClientKey, now: float) -> None:
        pending = self._admit_by(await self._plan(key, now), call, key, now)
        if pending is not None:
            await pending

    def _admit_by(self, plan: _Plan, call: CallContext, key: ClientKey, now: float) -> Awaitable[None] | None:
        """The plan's checks and slot: by a plain call on in-process state, else to await."""
        slot = None
        if plan.slot is not None:
            slot = Slot(plan.slot, plan.concurrency, call.request_id, self._slot_ttl)
        elif not plan.checks:
            return None
        local = self._local
        if local is None:
            return self._admit_shared(plan.checks, slot, call, key, now)
        self._admitted(local.limit_admit_now(plan.checks, slot), slot, call, key, now)
        return None

    async def _admit_shared(
        self, checks: list[Check], slot: Slot | None, call: CallContext, key: ClientKey, now: float
    ) -> None:
        self._admitted(await self.state.limit_admit(checks, slot), slot, call, key, now)

    def _admitted(
        self, refused: Check | Slot | None, slot: Slot | None, call: CallContext, key: ClientKey, now: float
    ) -> None:
        if refused is not None:
            raise _refusal(key, refused, now)
        if slot is not None:
            self._held[call.request_id] = slot

    async def _plan(self, key: ClientKey, now: float) -> _Plan:
        limits = key.limits
        checks: list[Check] = []
        windows: list[tuple[str, float]] = []
        start, end = window("minute", now)
        valid_until = end
        minute = int(start // 60)
        if limits.rpm is not None:
            checks.append(Check(f"rpm:{key.id}:{minute}", limits.rpm, end, add=1))
        if limits.tpm is not None:
            checks.append(Check(f"tpm:{key.id}:{minute}", limits.tpm, end))
            windows.append((f"tpm:{key.id}:{minute}", end))
        for field, kind in BUDGETS:
            limit = getattr(limits, field)
            if limit is not None:
                start, end = window(kind, now)
                name = f"{kind}:{key.id}:{int(start)}"
                if name not in self._seeded:
                    await self._seed(key.id, name, start, end)
                checks.append(Check(name, limit, end))
                windows.append((name, end))
        if len(self._plans) > 10_000:  # keys come and go: never an unbounded map
            self._plans.clear()
        plan = self._plans[key.id] = _Plan(key, valid_until, checks, windows)
        return plan

    async def _seed(self, key_id: str, name: str, start: float, end: float) -> None:
        """The window's spend so far from the usage table, once per process (budgets survive a
        restart even on in-process state)."""
        if self.store is not None:
            spent = await asyncio.to_thread(self.store.usage.spend, key_id, start)
            await self.state.limit_seed(name, spent, end)
        self._seeded.add(name)

    def call_closed_now(self, call: CallContext) -> Awaitable[None] | None:
        """Nothing to give back for a call without a key, and on in-process state it is given
        back by plain calls (no coroutine either way); else ``call_closed``, to await."""
        key = call.key
        if key is None:
            return None
        local = self._local
        if local is None:
            return self.call_closed(call)
        slot, counts = self._closing(call, key)
        if slot is not None or counts:
            try:
                local.limit_close_now(slot, counts)
            except Exception as exc:  # never fails a call (as in call_closed)
                _not_recorded(key, exc)
        return None

    async def call_closed(self, call: CallContext) -> None:
        key = call.key
        if key is None:
            return
        slot, counts = self._closing(call, key)
        if slot is None and not counts:
            return
        try:
            await self.state.limit_close(slot, counts)
        except Exception as exc:  # never fails a call; a slot not given back expires by itself
            _not_recorded(key, exc)

    def _closing(self, call: CallContext, key: ClientKey) -> tuple[Slot | None, list[Check]]:
        """What a closed call gives back: its concurrency slot, and its tokens' counts."""
        slot = self._held.pop(call.request_id, None)
        tokens = _tokens(call)
        counts: list[Check] = []
        if tokens > 0:
            now = time.time()
            plan = self._plans.get(key.id)
            if plan is None or plan.key is not key or now >= plan.until:
                counts = _counts_of(key.limits, key.id, tokens, now)
            else:
                counts = [Check(name, 0, ends_at, tokens) for name, ends_at in plan.windows]
        return slot, counts


def _not_recorded(key: ClientKey, exc: Exception) -> None:
    log.warning("cannot record a call against key %s's limits: %s", key.id, exc)


class _Plan:
    """What a key's calls check and count until ``until`` (the current minute's end): the
    admission checks (rpm, tpm, budgets), the token windows a finished call adds to, and its
    concurrency slot's name."""

    __slots__ = ("checks", "concurrency", "key", "slot", "until", "windows")

    def __init__(
        self, key: ClientKey, until: float, checks: list[Check], windows: list[tuple[str, float]]
    ) -> None:
        self.key = key
        self.until = until
        self.checks = checks
        self.windows = windows
        self.concurrency = key.limits.concurrency or 0
        self.slot = None if key.limits.concurrency is None else "conc:" + key.id


#: (globs, names) -> whether a name matches a glob: keys and models are few, so every call after
#: the first of a kind is one lookup, not a glob match per name and glob
_MATCHED: dict[tuple[tuple[str, ...], str, str], bool] = {}


def _check_model(key: ClientKey, request: CanonicalRequest) -> None:
    globs = key.limits.models
    if not globs:
        return
    model = request.model
    asked = request.requested_model or model
    seen = (globs, asked, model)
    allowed = _MATCHED.get(seen)
    if allowed is None:
        if len(_MATCHED) >= 4096:  # never an unbounded map (clients may name anything)
            _MATCHED.clear()
        allowed = _MATCHED[seen] = any(fnmatchcase(name, glob) for glob in globs for name in (asked, model))
    if allowed:
        return
    names = (asked, model)
    limit_refused("model")
    raise PermissionDenied(
        f"This API key may not use the model '{names[0]}' (allowed: {', '.join(globs)}).",
        param="model",
        code="model_not_allowed",
    )


def _check_upstream(key: ClientKey, upstream: str) -> None:
    allowed = key.limits.upstreams
    if allowed and upstream not in allowed:
        limit_refused("upstream")
        raise PermissionDenied(
            f"This API key may not use the upstream '{upstream}' (allowed: {', '.join(allowed)}).",
            code="upstream_not_allowed",
        )


def clamp_effort(request: CanonicalRequest, max_effort: str) -> None:
    """Lower the requested reasoning effort to ``max_effort`` (one it does not know is left to
    the model's own clamp); with none requested and a ceiling below the usual default, ask for
    the ceiling."""
    effort = request.reasoning.get("effort") if request.reasoning else None
    ceiling = EFFORTS.index(max_effort)
    if effort is None:
        if ceiling >= EFFORTS.index(DEFAULT_EFFORT):
            return
    elif not isinstance(effort, str) or effort not in EFFORTS or EFFORTS.index(effort) <= ceiling:
        return
    request.reasoning = {**(request.reasoning or {}), "effort": max_effort}


def _refusal(key: ClientKey, refused: Check | Slot, now: float) -> KeyLimitExceeded:
    limit = refused.limit
    if isinstance(refused, Slot):
        limit_refused("concurrency")
        return KeyLimitExceeded(
            f"This API key already has {limit} request(s) in progress, its concurrency limit; "
            "retry when one has finished.",
            code="concurrency_limit_exceeded",
            retry_after=1.0,
        )
    kind = refused.name.partition(":")[0]
    wait = max(0.0, refused.ends_at - now)
    if kind in ("rpm", "tpm"):
        limit_refused(kind)
        what = "requests" if kind == "rpm" else "tokens"
        return KeyLimitExceeded(
            f"This API key is over its limit of {limit} {what} per minute (see Retry-After).",
            code=f"{kind}_limit_exceeded",
            retry_after=wait,
        )
    limit_refused("budget")
    period = {"day": "daily", "week": "weekly", "month": "monthly"}[kind]
    ends = datetime.fromtimestamp(refused.ends_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return KeyLimitExceeded(
        f"This API key has used its {period} budget of {limit} tokens; it renews at {ends}.",
        code=f"{period}_budget_exceeded",
        retry_after=wait,
    )


def _tokens(call: CallContext) -> int:
    usage = call.usage()
    if usage is None:
        return 0
    given, made = usage.get("input_tokens"), usage.get("output_tokens")
    return (given if isinstance(given, int) else 0) + (made if isinstance(made, int) else 0)


def _counts_of(limits: KeyLimits, key_id: str, tokens: int, now: float) -> list[Check]:
    """The token windows a finished call's tokens count in (no plan cached for the key)."""
    if tokens <= 0:
        return []
    counts: list[Check] = []
    if limits.tpm is not None:
        start, end = window("minute", now)
        counts.append(Check(f"tpm:{key_id}:{int(start // 60)}", 0, end, add=tokens))
    for field, kind in BUDGETS:
        if getattr(limits, field) is not None:
            start, end = window(kind, now)
            counts.append(Check(f"{kind}:{key_id}:{int(start)}", 0, end, add=tokens))
    return counts
