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
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from gptgate.errors import KeyLimitExceeded, PermissionDenied
from gptgate.keys.model import EFFORTS, ClientKey, KeyLimits
from gptgate.observability.metrics import limit_refused
from gptgate.state.base import Check, PoolState, Slot

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
        #: per key: (valid until, admission checks, (name, ends_at) of the token windows) — the
        #: same for every call of a key within a minute, so built once a minute, not per call
        #: (a changed key is a new ClientKey object: its plan is rebuilt at once)
        self._plans: dict[str, tuple[ClientKey, float, list[Check], list[tuple[str, float]]]] = {}

    async def admit(self, call: CallContext, request: CanonicalRequest) -> None:
        key = call.key
        if key is None:
            return
        limits = key.limits
        _check_model(key, request)
        _check_upstream(key, call.upstream or "codex")
        if limits.max_effort is not None:
            clamp_effort(request, limits.max_effort)
        now = time.time()
        checks = await self._checks(key, now)
        slot = None
        if limits.concurrency is not None:
            slot = Slot("conc:" + key.id, limits.concurrency, call.request_id, self._slot_ttl)
        if not checks and slot is None:
            return
        refused = await self.state.limit_admit(checks, slot)
        if refused is not None:
            raise _refusal(key, refused, now)
        if slot is not None:
            self._held[call.request_id] = slot

    async def _checks(self, key: ClientKey, now: float) -> list[Check]:
        plan = self._plans.get(key.id)
        if plan is not None and plan[0] is key and now < plan[1]:
            return plan[2]
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
        self._plans[key.id] = (key, valid_until, checks, windows)
        return checks

    async def _seed(self, key_id: str, name: str, start: float, end: float) -> None:
        """The window's spend so far from the usage table, once per process (budgets survive a
        restart even on in-process state)."""
        if self.store is not None:
            spent = await asyncio.to_thread(self.store.usage.spend, key_id, start)
            await self.state.limit_seed(name, spent, end)
        self._seeded.add(name)

    def _counts(self, key: ClientKey, tokens: int, now: float) -> list[Check]:
        if tokens <= 0:
            return []
        plan = self._plans.get(key.id)
        if plan is None or plan[0] is not key or now >= plan[1]:
            return _counts_of(key.limits, key.id, tokens, now)
        return [Check(name, 0, ends_at, add=tokens) for name, ends_at in plan[3]]

    async def call_closed(self, call: CallContext) -> None:
        key = call.key
        if key is None:
            return
        slot = self._held.pop(call.request_id, None)
        counts = self._counts(key, _tokens(call), time.time())
        if slot is None and not counts:
            return
        try:
            await self.state.limit_close(slot, counts)
        except Exception as exc:  # never fails a call; a slot not given back expires by itself
            log.warning("cannot record a call against key %s's limits: %s", key.id, exc)


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
