"""Metrics are accumulated per call and applied in bulk: the exposition is what direct
``observe()`` / ``inc()`` calls would give, bucket by bucket, after a scrape, a timer tick or a close."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from gptgate.observability import metrics
from gptgate.observability.metrics import DURATION_BUCKETS, TTFT_BUCKETS

#: bucket bounds themselves (observe files ``amount <= bound``), between them, past the last, 0
DURATIONS = (0.25, 0.3, 1.0, 1e-9, 0.0, 2.5, 31.7, 1800.0, 1800.5, 4000.0, 0.1, 0.1, 0.2, 7.77, 600.0)
TTFTS = (0.1, None, 0.11, 120.0, 121.0, 0.0, 1.5, None, 0.7, 13.0, 0.33, 0.1, 2.0, 59.9, 0.25)
ERRORS = (None, "upstream_timeout", None, None, "pool_exhausted") * 3


def direct(door: str, calls: list[tuple[float | None, float, int, str | None]]) -> list[str]:
    """The exposition lines of ``door`` had every call been observed straight away."""
    registry = CollectorRegistry()
    requests = Counter("gptgate_requests", "", ["door", "model", "status"], registry=registry)
    errors = Counter("gptgate_request_errors", "", ["door", "error_class"], registry=registry)
    ttft = Histogram(
        "gptgate_time_to_first_token_seconds", "", ["door"], buckets=TTFT_BUCKETS, registry=registry
    )
    duration = Histogram(
        "gptgate_request_duration_seconds", "", ["door"], buckets=DURATION_BUCKETS, registry=registry
    )
    for first, total, status, error_class in calls:
        requests.labels(door, "gpt-5.5", str(status)).inc()
        if first is not None:
            ttft.labels(door).observe(first)
        duration.labels(door).observe(total)
        if error_class is not None:
            errors.labels(door, error_class).inc()
    return [line for line in generate_latest(registry).decode().splitlines() if f'door="{door}"' in line]


def exposed(door: str) -> list[str]:
    return [line for line in metrics.exposition().decode().splitlines() if f'door="{door}"' in line]


def test_bulk_values_equal_direct_observations_bucket_by_bucket() -> None:
    calls = [
        (first, total, 200 if error is None else 502, error)
        for first, total, error in zip(TTFTS, DURATIONS, ERRORS, strict=True)
    ]
    done: list[tuple[float | None, float, int, str | None]] = []
    for n, (first, total, status, error_class) in enumerate(calls):
        metrics.call_finished("door_bulk", "gpt-5.5", status, error_class, first, total)
        done.append(calls[n])
        if n % 4 == 3:  # several flushes: each one applies what came since the last
            metrics.flush()
            assert exposed("door_bulk") == direct("door_bulk", done)
    lines = exposed("door_bulk")
    assert lines == direct("door_bulk", calls)
    assert 'gptgate_request_duration_seconds_bucket{door="door_bulk",le="0.25"} 6.0' in lines
    assert 'gptgate_request_duration_seconds_bucket{door="door_bulk",le="+Inf"} 15.0' in lines
    assert 'gptgate_time_to_first_token_seconds_count{door="door_bulk"} 13.0' in lines
    assert 'gptgate_requests_total{door="door_bulk",model="gpt-5.5",status="502"} 6.0' in lines
    assert 'gptgate_request_errors_total{door="door_bulk",error_class="pool_exhausted"} 3.0' in lines


def test_the_histogram_internals_the_bulk_apply_sets() -> None:
    """``_Times.apply`` sets ``Histogram._buckets`` (own count per upper bound, +Inf last) and
    ``Histogram._sum``: if prometheus-client changes them, this fails."""
    histogram = Histogram(
        "probe_seconds", "", ["door"], buckets=DURATION_BUCKETS, registry=CollectorRegistry()
    )
    child = histogram.labels("d")
    assert child._upper_bounds == [*DURATION_BUCKETS, math.inf]
    assert len(child._buckets) == len(DURATION_BUCKETS) + 1
    child.observe(0.25)
    child.observe(1800.5)
    assert [value.get() for value in child._buckets] == [1.0] + [0.0] * 12 + [1.0]
    assert child._sum.get() == 1800.75
    child._buckets[1].set(2)
    child._sum.set(0.75)
    samples = {(s.name, s.labels.get("le")): s.value for s in next(iter(histogram.collect())).samples}
    assert samples[("probe_seconds_bucket", "0.5")] == 3.0
    assert samples[("probe_seconds_count", None)] == 4.0
    assert samples[("probe_seconds_sum", None)] == 0.75


def test_a_scrape_applies_the_pending_values_first() -> None:
    metrics.call_finished("door_pending", "gpt-5.5", 200, None, 0.3, 0.4)
    applied = generate_latest(metrics._registry).decode()
    assert 'door="door_pending"' not in applied  # pending: the call only counted in a dict
    assert 'gptgate_requests_total{door="door_pending",model="gpt-5.5",status="200"} 1.0' in exposed(
        "door_pending"
    )


async def test_the_timer_applies_them_and_close_applies_the_rest() -> None:
    flusher = metrics.Flusher(seconds=0.01)
    flusher.start()
    metrics.call_finished("door_timer", "gpt-5.5", 200, None, None, 0.4)
    line = 'gptgate_requests_total{door="door_timer",model="gpt-5.5",status="200"} 1.0'
    for _ in range(500):
        if line in generate_latest(metrics._registry).decode():
            break
        await asyncio.sleep(0.01)
    assert line in generate_latest(metrics._registry).decode().splitlines()
    metrics.call_finished("door_timer", "gpt-5.5", 200, None, None, 0.4)
    await flusher.close()
    applied = generate_latest(metrics._registry).decode().splitlines()
    assert 'gptgate_requests_total{door="door_timer",model="gpt-5.5",status="200"} 2.0' in applied


# One worker forked applies its values at close (its files); the parent, the scraping worker,
# still has its own pending: the scrape applies them and sums both files. The values are binary
# fractions, so the sum over two files is the sum a single process would have made.
TWO_FILES = """
import asyncio, os, sys
from gptgate.observability import metrics
metrics.use_multiprocess(sys.argv[1])
pid = os.fork()
if pid == 0:
    for first, total in ((0.125, 0.25), (None, 3.0), (0.5, 0.5)):
        metrics.call_finished("chat", "gpt-5.5", 200, None, first, total)
    metrics.stream_opened()
    asyncio.run(metrics.Flusher().close())
    os._exit(0)
os.waitpid(pid, 0)
for first, total, error_class in ((2.0, 2.5, "upstream_timeout"), (0.25, 1800.0, None)):
    metrics.call_finished("chat", "gpt-5.5", 200, error_class, first, total)
metrics.stream_opened()
metrics.stream_opened()
metrics.stream_closed()
sys.stdout.write(metrics.exposition().decode())
"""


def test_two_workers_files_are_summed_bucket_by_bucket(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", TWO_FILES, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    calls: list[tuple[float | None, float, int, str | None]] = [
        (0.125, 0.25, 200, None),
        (None, 3.0, 200, None),
        (0.5, 0.5, 200, None),
        (2.0, 2.5, 200, "upstream_timeout"),
        (0.25, 1800.0, 200, None),
    ]
    lines = [line for line in out if 'door="chat"' in line]
    assert sorted(lines) == sorted(direct("chat", calls))
    assert 'gptgate_request_duration_seconds_sum{door="chat"} 1806.25' in lines
    assert "gptgate_active_streams 2.0" in out
