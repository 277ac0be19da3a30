"""The limits observer on the in-process state: literal windows, refusals and clamps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext
from gptgate.errors import KeyLimitExceeded, PermissionDenied
from gptgate.keys.limits import KeyLimiter, clamp_effort, window
from gptgate.keys.model import ClientKey, KeyLimits
from gptgate.state import MemoryState


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def request(
    model: str = "gpt-5.5", requested: str = "gpt-5.5", effort: str | None = None
) -> CanonicalRequest:
    reasoning = {"effort": effort} if effort else None
    return CanonicalRequest(
        model=model, input=[], origin="chat", requested_model=requested, reasoning=reasoning
    )


def call(limits: KeyLimits, n: int = 0) -> CallContext:
    return CallContext(request_id=f"req_{n}", key=ClientKey("key_abc", "a", "gg-AbC123", limits))


def test_windows_are_utc_calendar_windows() -> None:
    now = ts("2025-03-05T13:45:30")  # a Wednesday
    assert window("minute", now) == (ts("2025-03-05T13:45:00"), ts("2025-03-05T13:46:00"))
    assert window("day", now) == (ts("2025-03-05T00:00:00"), ts("2025-03-06T00:00:00"))
    assert window("week", now) == (ts("2025-03-03T00:00:00"), ts("2025-03-10T00:00:00"))
    assert window("month", now) == (ts("2025-03-01T00:00:00"), ts("2025-04-01T00:00:00"))
    assert window("month", ts("2025-12-31T23:59:59")) == (
        ts("2025-12-01T00:00:00"),
        ts("2026-01-01T00:00:00"),
    )


@pytest.mark.parametrize(
    ("asked", "ceiling", "sent"),
    [("xhigh", "medium", "medium"), ("low", "medium", "low"), (None, "low", "low"), (None, "high", None)],
)
def test_effort_is_clamped_down_never_refused(asked: str | None, ceiling: str, sent: str | None) -> None:
    req = request(effort=asked)
    clamp_effort(req, ceiling)
    assert (req.reasoning or {}).get("effort") == sent
    assert req.ignored == []


async def test_models_are_globs_on_the_requested_or_resolved_name() -> None:
    limiter = KeyLimiter(MemoryState(), None)
    limits = KeyLimits(models=("gpt-5*",))
    await limiter.admit(call(limits), request("gpt-5.5", "claude-sonnet-4-5"))  # resolved name matches
    with pytest.raises(PermissionDenied) as refused:
        await limiter.admit(call(limits), request("o3", "o3"))
    assert refused.value.message == "This API key may not use the model 'o3' (allowed: gpt-5*)."
    assert (refused.value.status, refused.value.code) == (403, "model_not_allowed")
    with pytest.raises(PermissionDenied, match="may not use the upstream 'codex'"):
        await limiter.admit(call(KeyLimits(upstreams=("chatgpt_web",))), request())


async def test_tpm_counts_completed_calls_and_refuses_while_over() -> None:
    limiter = KeyLimiter(MemoryState(), None)
    limits = KeyLimits(tpm=100)
    first = call(limits, 1)
    await limiter.admit(first, request())
    first.terminal = {
        "type": "response.completed",
        "response": {"usage": {"input_tokens": 70, "output_tokens": 30}},
    }
    await limiter.call_closed(first)
    with pytest.raises(KeyLimitExceeded) as refused:
        await limiter.admit(call(limits, 2), request())
    assert (
        refused.value.message == "This API key is over its limit of 100 tokens per minute (see Retry-After)."
    )
    assert refused.value.code == "tpm_limit_exceeded"
    assert 0 < (refused.value.retry_after or 0) <= 60


async def test_concurrency_slot_is_given_back_at_close() -> None:
    limiter = KeyLimiter(MemoryState(), None)
    limits = KeyLimits(concurrency=1)
    first = call(limits, 1)
    await limiter.admit(first, request())
    with pytest.raises(KeyLimitExceeded) as refused:
        await limiter.admit(call(limits, 2), request())
    assert (refused.value.code, refused.value.headers) == ("concurrency_limit_exceeded", {"Retry-After": "1"})
    await limiter.call_closed(first)
    await limiter.admit(call(limits, 3), request())


class SpendStore:
    """Only what the limiter reads: the usage table's spend per key since a time."""

    def __init__(self, spent: int) -> None:
        self.usage = self
        self.spent = spent
        self.asked: list[tuple[str, float]] = []

    def spend(self, key_id: str, since: float) -> int:
        self.asked.append((key_id, since))
        return self.spent


async def test_a_budget_starts_from_the_store_s_spend_once_per_window() -> None:
    store = SpendStore(990)
    limiter = KeyLimiter(MemoryState(), store)  # type: ignore[arg-type]
    limits = KeyLimits(daily_tokens=1000)
    first = call(limits, 1)
    await limiter.admit(first, request())
    first.terminal = {
        "type": "response.completed",
        "response": {"usage": {"input_tokens": 6, "output_tokens": 4}},
    }
    await limiter.call_closed(first)
    with pytest.raises(KeyLimitExceeded) as refused:
        await limiter.admit(call(limits, 2), request())
    day_start, day_end = window("day", datetime.now(UTC).timestamp())
    assert store.asked == [("key_abc", day_start)]
    assert refused.value.code == "daily_budget_exceeded"
    ends = datetime.fromtimestamp(day_end, UTC).strftime("%Y-%m-%d 00:00 UTC")
    assert (
        refused.value.message
        == f"This API key has used its daily budget of 1000 tokens; it renews at {ends}."
    )
