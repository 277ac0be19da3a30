"""The usage table on both backends: batches in; totals, series, latest, export, spend, prune out."""

from __future__ import annotations

from typing import Any

from gptgate.storage import Store
from gptgate.storage.usage import UsageRow

DAY0 = 1_700_006_400.0  # a UTC midnight (1700006400 = 19676 * 86400)


def row(ts: float, **over: Any) -> UsageRow:
    base: UsageRow = {
        "ts": ts,
        "request_id": f"req_{ts}",
        "key_id": "key_a",
        "account_id": "acc_1",
        "upstream": "codex",
        "door": "chat",
        "model": "gpt-5.5",
        "session": None,
        "input_tokens": 100,
        "cached_tokens": 0,
        "output_tokens": 10,
        "reasoning_tokens": 0,
        "ttft_ms": 50,
        "duration_ms": 120,
        "status": 200,
        "error_class": None,
    }
    base.update(over)  # type: ignore[typeddict-item]
    return base


def sample() -> list[UsageRow]:
    return [
        row(DAY0 + 10, cached_tokens=50, session="s1"),
        row(DAY0 + 20, cached_tokens=100, session="s1", reasoning_tokens=4),
        row(DAY0 + 70, key_id="key_b", account_id="acc_2", model="gpt-5.4-mini", input_tokens=40),
        row(
            DAY0 + 80,
            key_id=None,
            status=429,
            error_class="usage_limit_reached",
            input_tokens=0,
            output_tokens=0,
        ),
        row(DAY0 + 86400 + 5, door="gemini", output_tokens=30),
    ]


def test_totals_by_key_account_model_day(store: Store) -> None:
    store.usage.insert_many(sample())
    by_key = [t.as_dict() for t in store.usage.totals("key", DAY0)]
    assert by_key == [
        {
            "group": "key_a",
            "requests": 3,
            "errors": 0,
            "input_tokens": 300,
            "cached_tokens": 150,
            "output_tokens": 50,
            "reasoning_tokens": 4,
            "cache_hit_share": 0.5,
        },
        {
            "group": "key_b",
            "requests": 1,
            "errors": 0,
            "input_tokens": 40,
            "cached_tokens": 0,
            "output_tokens": 10,
            "reasoning_tokens": 0,
            "cache_hit_share": 0.0,
        },
        {
            "group": None,
            "requests": 1,
            "errors": 1,
            "input_tokens": 0,
            "cached_tokens": 0,
            "output_tokens": 0,
            "reasoning_tokens": 0,
            "cache_hit_share": None,
        },
    ]
    assert [(t.group, t.requests) for t in store.usage.totals("account", DAY0)] == [
        ("acc_1", 4),
        ("acc_2", 1),
    ]
    assert [(t.group, t.requests) for t in store.usage.totals("model", DAY0)] == [
        ("gpt-5.5", 4),
        ("gpt-5.4-mini", 1),
    ]
    assert [(t.group, t.requests, t.output_tokens) for t in store.usage.totals("day", DAY0)] == [
        ("1700006400", 4, 30),
        ("1700092800", 1, 30),
    ]
    sessions = store.usage.totals("session", DAY0)
    assert [(t.group, t.requests, t.cache_hit_share) for t in sessions] == [("s1", 2, 0.75)]
    # the range is [since, until)
    assert [t.requests for t in store.usage.totals("model", DAY0 + 20, DAY0 + 80)] == [1, 1]


def test_series_fills_every_bucket(store: Store) -> None:
    store.usage.insert_many(sample())
    series = store.usage.series(DAY0, 60, "key", until=DAY0 + 180)
    assert series.buckets == [DAY0, DAY0 + 60, DAY0 + 120, DAY0 + 180]
    assert series.tokens == {"key_a": [220, 0, 0, 0], "key_b": [0, 50, 0, 0], "none": [0, 0, 0, 0]}
    assert series.requests == {"key_a": [2, 0, 0, 0], "key_b": [0, 1, 0, 0], "none": [0, 1, 0, 0]}


def test_latest_puts_failures_first(store: Store) -> None:
    store.usage.insert_many(sample())
    latest = store.usage.latest(3)
    assert [(r["ts"], r["status"], r["error_class"]) for r in latest] == [
        (DAY0 + 80, 429, "usage_limit_reached"),
        (DAY0 + 86400 + 5, 200, None),
        (DAY0 + 70, 200, None),
    ]
    assert latest[1]["door"] == "gemini"


def test_export_pages_spend_prune(store: Store) -> None:
    rows = [row(DAY0 + i, input_tokens=i) for i in range(25)]
    store.usage.insert_many(rows)
    exported = list(store.usage.export(DAY0 + 3, DAY0 + 23, batch=7))
    assert [r["input_tokens"] for r in exported] == list(range(3, 23))
    assert set(exported[0]) == {"id", *rows[0]}
    assert store.usage.spend("key_a", DAY0 + 20) == (20 + 21 + 22 + 23 + 24) + 5 * 10
    assert store.usage.spend("key_b", DAY0) == 0
    assert store.usage.prune(DAY0 + 10) == 10
    assert store.usage.count() == 15
    store.usage.insert_many([])
    assert store.usage.count() == 15
