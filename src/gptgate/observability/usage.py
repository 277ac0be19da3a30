"""Usage accounting: one row per model call, appended in memory, written in batches off the hot path.

``UsageRecorder`` is a :class:`~gptgate.dispatch.context.CallObserver`. When a call closes
(streamed or folded alike, refused before dispatch too) it turns the call's context into one
row (the token figures come from the terminal event's usage object) and appends it to a deque:
a few microseconds, no I/O, nothing per stream event. A background task writes what waits with
one ``executemany`` in a thread, as soon as ``batch_size`` rows wait or ``flush_seconds`` after
the oldest arrived, whichever is first.

Bounds, stated because an operator relies on them:

- memory: at most ``buffer_rows`` rows wait; beyond that the oldest are dropped and counted
  (``dropped``), with a warning at most once a minute. A failing store keeps its rows waiting
  (within that bound) and the write is retried at the next interval.
- durability: a written batch is committed (SQLite WAL survives ``kill -9``); a ``kill -9``
  loses only what had not been written yet: rows younger than ``flush_seconds`` plus the time of
  one write, normally no more than ``batch_size`` of them. A clean shutdown writes everything.
- retention: rows older than ``retention_days`` are pruned once a day (0 keeps them forever).

The recorder also feeds the burn projection (``accounts/burn.py``) with the serving account's
quota snapshot as each call closes, and samples the whole pool on its timer for idle accounts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from gptgate.accounts.burn import BurnTracker
from gptgate.background import Background
from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext
from gptgate.storage.usage import UsageRow

if TYPE_CHECKING:
    from gptgate.accounts.model import Account
    from gptgate.settings import Settings

log = logging.getLogger("gptgate.usage")

WARN_EVERY_SECONDS = 60.0
PRUNE_EVERY_SECONDS = 86400.0
#: the pool is sampled for the burn projection this often (idle accounts' usage polls)
SAMPLE_POOL_SECONDS = 15.0


class UsageSink(Protocol):
    """Where batches go (``SqlUsageStore``); synchronous, called in a thread."""

    def insert_many(self, rows: list[UsageRow]) -> None: ...

    def prune(self, before: float) -> int: ...


def row_of(call: CallContext, now: float) -> UsageRow:
    """The call's usage row (token figures 0 when no terminal event carried a usage object)."""
    usage = call.usage()
    if usage is not None:
        input_tokens = usage.get("input_tokens") or 0
        output_tokens = usage.get("output_tokens") or 0
        details = usage.get("input_tokens_details")
        cached = (details.get("cached_tokens") if isinstance(details, dict) else 0) or 0
        details = usage.get("output_tokens_details")
        reasoning = (details.get("reasoning_tokens") if isinstance(details, dict) else 0) or 0
    else:
        input_tokens = output_tokens = cached = reasoning = 0
    first = call.first_event_at  # call.ttft(), inline
    account = call.account
    key = call.key  # call.key_id, inline
    return {
        "ts": call.started_at,
        "request_id": call.request_id,
        "key_id": key.id if key is not None else None,
        "account_id": account.id if account is not None else None,
        "upstream": call.upstream or ("codex" if account is not None else None),
        "door": call.door,
        "model": call.model,
        "session": call.session[:32] if call.session else None,
        "input_tokens": int(input_tokens),
        "cached_tokens": int(cached),
        "output_tokens": int(output_tokens),
        "reasoning_tokens": int(reasoning),
        "ttft_ms": None if first is None else int((first - call.started) * 1000),
        "duration_ms": int((now - call.started) * 1000),
        "status": call.status,
        "error_class": _bounded(call.error_class()),
    }


def _bounded(value: str | None) -> str | None:
    return value[:64] if value else None


class UsageRecorder:
    """Appends a row per closed call; a background task writes them in batches (see module doc)."""

    admits = False  # admit does nothing: dispatch does not await it

    def __init__(
        self,
        sink: UsageSink | None,
        *,
        batch_size: int = 200,
        flush_seconds: float = 1.0,
        buffer_rows: int = 50_000,
        retention_days: float = 90.0,
        accounts: Callable[[], Iterable[Account]] | None = None,
    ) -> None:
        self.sink = sink
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.buffer_rows = max(buffer_rows, batch_size)
        self.retention_days = retention_days
        self.burn = BurnTracker()
        self.dropped = 0
        self.written = 0
        self._accounts = accounts
        self._buffer: deque[UsageRow] = deque()
        self._wake = asyncio.Event()
        self._writer = Background()
        self._lock = asyncio.Lock()
        self._warned_at = 0.0
        self._pruned_at = 0.0
        self._sampled_at = 0.0

    @classmethod
    def from_settings(
        cls, settings: Settings, sink: UsageSink | None, accounts: Callable[[], Iterable[Account]]
    ) -> UsageRecorder:
        return cls(
            sink,
            batch_size=settings.usage_batch_size,
            flush_seconds=settings.usage_flush_seconds,
            buffer_rows=settings.usage_buffer_rows,
            retention_days=settings.usage_retention_days,
            accounts=accounts,
        )

    @property
    def pending(self) -> int:
        return len(self._buffer)

    # -- the observer
    async def admit(self, call: CallContext, request: CanonicalRequest) -> None:
        return None

    async def call_closed(self, call: CallContext) -> None:
        self.call_closed_now(call)

    def call_closed_now(self, call: CallContext) -> None:
        """``call_closed`` without a coroutine: nothing here awaits (the writer writes later)."""
        try:
            account = call.account
            if account is not None:
                self.burn.observe(account)
            if self.sink is not None:
                self.append(row_of(call, time.monotonic()))
        except Exception:  # an observer never breaks a call; a bad row is not worth one
            log.exception("usage: could not record request %s", call.request_id)

    def append(self, row: UsageRow) -> None:
        buffer = self._buffer
        buffer.append(row)
        if len(buffer) > self.buffer_rows:
            buffer.popleft()
            self._dropped(1)
        if len(buffer) >= self.batch_size:
            self._wake.set()

    def _dropped(self, n: int) -> None:
        self.dropped += n
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning(
                "usage: %d row(s) dropped so far: more than usage_buffer_rows=%d waiting (is the store down?)",
                self.dropped,
                self.buffer_rows,
            )

    # -- the writer
    def start(self) -> None:
        self._writer.start(self._run)

    async def close(self) -> None:
        """Stop the writer and write what waits (one attempt)."""
        await self._writer.stop()
        await self.flush()

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self.flush_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            await self.flush()
            await self._housekeeping()

    async def flush(self) -> bool:
        """Write every waiting row now; False (rows kept, retried later) when the store fails."""
        if self.sink is None:
            return True
        async with self._lock:
            if not self._buffer:
                return True
            rows = list(self._buffer)
            self._buffer.clear()
            try:
                await asyncio.to_thread(self.sink.insert_many, rows)
            except Exception as exc:
                self._restore(rows)
                now = time.monotonic()
                if now - self._warned_at >= WARN_EVERY_SECONDS:
                    self._warned_at = now
                    log.warning("usage: cannot write %d row(s), will retry: %s", len(rows), exc)
                return False
            self.written += len(rows)
            return True

    def _restore(self, rows: list[UsageRow]) -> None:
        """Put unwritten rows back in front of newer ones, within the bound (oldest dropped)."""
        self._buffer.extendleft(reversed(rows))
        excess = len(self._buffer) - self.buffer_rows
        for _ in range(max(0, excess)):
            self._buffer.popleft()
        if excess > 0:
            self._dropped(excess)

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        if self._accounts is not None and now - self._sampled_at >= SAMPLE_POOL_SECONDS:
            self._sampled_at = now
            accounts = list(self._accounts())
            self.burn.observe_all(accounts)
            self.burn.forget({a.id for a in accounts})
        if self.sink is not None and self.retention_days > 0 and now - self._pruned_at >= PRUNE_EVERY_SECONDS:
            self._pruned_at = now
            await self.prune()

    async def prune(self) -> int:
        """Delete rows past the retention period (0 days: none); how many went."""
        if self.sink is None or self.retention_days <= 0:
            return 0
        before = time.time() - self.retention_days * 86400
        try:
            removed = await asyncio.to_thread(self.sink.prune, before)
        except Exception as exc:
            log.warning("usage: cannot prune old rows: %s", exc)
            return 0
        if removed:
            log.info("usage: pruned %d row(s) older than %g days", removed, self.retention_days)
        return removed
