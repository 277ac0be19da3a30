"""The usage recorder: a row per closed call, batches by size or age, bounded, retried, flushed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from gptgate.accounts.model import Account
from gptgate.dispatch.context import CallContext
from gptgate.errors import PoolExhausted
from gptgate.observability.usage import UsageRecorder, row_of
from gptgate.storage.usage import UsageRow

COMPLETED = {
    "type": "response.completed",
    "response": {
        "status": "completed",
        "usage": {
            "input_tokens": 1200,
            "input_tokens_details": {"cached_tokens": 1024},
            "output_tokens": 37,
            "output_tokens_details": {"reasoning_tokens": 12},
            "total_tokens": 1237,
        },
    },
}


class Sink:
    def __init__(self) -> None:
        self.batches: list[list[UsageRow]] = []
        self.fail = False

    def insert_many(self, rows: list[UsageRow]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.batches.append(rows)

    def prune(self, before: float) -> int:
        return 0

    @property
    def rows(self) -> list[UsageRow]:
        return [r for b in self.batches for r in b]


def served_call(n: int = 0) -> CallContext:
    call = CallContext(f"req_{n}", door="chat", model="gpt-5.5", session="s1")
    call.started = time.monotonic() - 0.5
    call.started_at = 1_700_000_000.0 + n
    call.first_event_at = call.started + 0.25
    call.account = Account(access_token="x", name="seat-1", id="acc_1")
    call.terminal = COMPLETED
    call.status = 200
    return call


def test_row_of_a_served_call_and_a_refused_one() -> None:
    call = served_call()
    row = row_of(call, call.started + 0.75)
    assert row == {
        "ts": 1_700_000_000.0,
        "request_id": "req_0",
        "key_id": None,
        "account_id": "acc_1",
        "upstream": "codex",
        "door": "chat",
        "model": "gpt-5.5",
        "session": "s1",
        "input_tokens": 1200,
        "cached_tokens": 1024,
        "output_tokens": 37,
        "reasoning_tokens": 12,
        "ttft_ms": 250,
        "duration_ms": 750,
        "status": 200,
        "error_class": None,
    }
    refused = CallContext("req_9", door="gemini", model="gpt-5.5", status=429, error=PoolExhausted(30.0))
    row = row_of(refused, refused.started)
    assert (row["status"], row["error_class"], row["account_id"], row["upstream"]) == (
        429,
        "pool_exhausted",
        None,
        None,
    )
    assert (row["input_tokens"], row["output_tokens"], row["ttft_ms"]) == (0, 0, None)


async def test_a_batch_is_written_when_full_or_when_old() -> None:
    sink = Sink()
    recorder = UsageRecorder(sink, batch_size=3, flush_seconds=0.3)
    recorder.start()
    try:
        for n in range(3):
            await recorder.call_closed(served_call(n))
        await asyncio.sleep(0.05)  # woken by the full batch, well before flush_seconds
        assert [len(b) for b in sink.batches] == [3]
        await recorder.call_closed(served_call(3))
        await asyncio.sleep(0.05)
        assert recorder.pending == 1
        await asyncio.sleep(0.4)  # the age bound
        assert [len(b) for b in sink.batches] == [3, 1]
        assert [r["request_id"] for r in sink.rows] == ["req_0", "req_1", "req_2", "req_3"]
    finally:
        await recorder.close()


async def test_a_failing_store_keeps_rows_within_the_bound_and_close_flushes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = Sink()
    sink.fail = True
    recorder = UsageRecorder(sink, batch_size=2, flush_seconds=60, buffer_rows=4)
    for n in range(6):
        await recorder.call_closed(served_call(n))
    assert recorder.dropped == 2 and recorder.pending == 4
    assert await recorder.flush() is False
    assert recorder.pending == 4
    sink.fail = False
    await recorder.call_closed(served_call(6))  # one more: the oldest waiting goes
    assert recorder.dropped == 3
    await recorder.close()
    assert [r["request_id"] for r in sink.rows] == ["req_3", "req_4", "req_5", "req_6"]
    assert recorder.pending == 0 and recorder.written == 4
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "usage: 1 row(s) dropped so far: more than usage_buffer_rows=4 waiting (is the store down?)"
    ]


async def test_without_a_store_nothing_is_kept() -> None:
    recorder = UsageRecorder(None)
    await recorder.call_closed(served_call())
    assert recorder.pending == 0
    assert await recorder.flush() is True


async def test_the_append_costs_a_few_microseconds() -> None:
    """The per-call cost on the request's path (row built and appended), measured here so a
    regression shows: well under 20 µs per call on any of our machines (about 3 µs measured)."""
    recorder = UsageRecorder(Sink(), batch_size=10**9, buffer_rows=10**9)
    calls = [served_call(n) for n in range(2000)]
    start = time.perf_counter()
    for call in calls:
        await recorder.call_closed(call)
    per_call_us = (time.perf_counter() - start) / len(calls) * 1e6
    assert recorder.pending == 2000
    assert per_call_us < 20, per_call_us


def test_settings_defaults(tmp_path: Any) -> None:
    from gptgate.settings import Settings

    settings = Settings()
    recorder = UsageRecorder.from_settings(settings, Sink(), list)
    assert (recorder.batch_size, recorder.flush_seconds, recorder.buffer_rows, recorder.retention_days) == (
        200,
        1.0,
        50_000,
        90.0,
    )
