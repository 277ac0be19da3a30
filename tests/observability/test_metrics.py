"""Metrics: the exposition after calls, line by line, in one process and summed over workers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from gptgate.observability import metrics
from gptgate.observability.metrics import _Bounded, metrics_handler
from tests.support import serve_app


def exposed() -> list[str]:
    return metrics.exposition().decode().splitlines()


@pytest.fixture
def no_callback() -> Iterator[None]:
    yield
    metrics.set_account_states(None)
    metrics.configure(label_ids=False)


def test_a_finished_call_counts_and_times() -> None:
    metrics.call_finished("door_a", "gpt-5.5", 200, None, 0.4, 1.5)
    metrics.call_finished("door_a", "gpt-5.5", 200, None, None, 0.2)
    metrics.call_finished("door_a", "gpt-5.5", 502, "upstream_timeout", None, 30.0)
    lines = exposed()
    assert 'gptgate_requests_total{door="door_a",model="gpt-5.5",status="200"} 2.0' in lines
    assert 'gptgate_requests_total{door="door_a",model="gpt-5.5",status="502"} 1.0' in lines
    assert 'gptgate_request_errors_total{door="door_a",error_class="upstream_timeout"} 1.0' in lines
    assert 'gptgate_time_to_first_token_seconds_bucket{door="door_a",le="0.25"} 0.0' in lines
    assert 'gptgate_time_to_first_token_seconds_bucket{door="door_a",le="0.5"} 1.0' in lines
    assert 'gptgate_time_to_first_token_seconds_count{door="door_a"} 1.0' in lines
    assert 'gptgate_request_duration_seconds_bucket{door="door_a",le="1.0"} 1.0' in lines
    assert 'gptgate_request_duration_seconds_bucket{door="door_a",le="2.5"} 2.0' in lines
    assert 'gptgate_request_duration_seconds_count{door="door_a"} 3.0' in lines
    assert 'gptgate_request_duration_seconds_sum{door="door_a"} 31.7' in lines
    assert not [line for line in lines if line.startswith("gptgate_requests_by_id_total{")]


def test_account_events_and_refusals() -> None:
    metrics.upstream_error("connect_timeout_x")
    metrics.cooldown_started("usage_limit_reached_x")
    metrics.refresh_finished("rejected_x")
    metrics.limit_refused("rpm")
    metrics.limit_refused("made-up-kind")
    lines = exposed()
    assert 'gptgate_upstream_errors_total{error_class="connect_timeout_x"} 1.0' in lines
    assert 'gptgate_cooldowns_total{reason="usage_limit_reached_x"} 1.0' in lines
    assert 'gptgate_token_refreshes_total{outcome="rejected_x"} 1.0' in lines
    assert any(line.startswith('gptgate_limit_refusals_total{kind="rpm"} ') for line in lines)
    assert any(line.startswith('gptgate_limit_refusals_total{kind="other"} ') for line in lines)


def test_active_streams_go_up_and_down() -> None:
    def value() -> float:
        (line,) = [x for x in exposed() if x.startswith("gptgate_active_streams ")]
        return float(line.split()[1])

    start = value()
    metrics.stream_opened()
    metrics.stream_opened()
    metrics.stream_closed()
    assert value() == start + 1
    metrics.stream_closed()
    assert value() == start


def test_accounts_by_state_come_from_the_callback(no_callback: None) -> None:
    metrics.set_account_states(lambda: {"active": 3, "cooling": 1, "weird": 2})
    lines = exposed()
    assert 'gptgate_accounts{state="active"} 3.0' in lines
    assert 'gptgate_accounts{state="cooling"} 1.0' in lines
    assert 'gptgate_accounts{state="disabled"} 0.0' in lines
    assert 'gptgate_accounts{state="needs_relogin"} 0.0' in lines
    assert 'gptgate_accounts{state="deactivated"} 0.0' in lines
    assert 'gptgate_accounts{state="other"} 2.0' in lines


def test_ids_are_labels_only_when_enabled(no_callback: None) -> None:
    metrics.call_finished("door_b", "gpt-5.5", 200, None, None, 0.1, key_id="k_1", account_id="acct-1")
    metrics.configure(label_ids=True)
    metrics.call_finished("door_b", "gpt-5.5", 200, None, None, 0.1, key_id="k_1", account_id="acct-1")
    lines = exposed()
    assert 'gptgate_requests_by_id_total{account_id="acct-1",key_id="k_1",status="200"} 1.0' in lines
    assert 'gptgate_requests_total{door="door_b",model="gpt-5.5",status="200"} 2.0' in lines


def test_label_values_are_bounded() -> None:
    bounded = _Bounded(2)
    assert [bounded(v) for v in ("a", "b", "c", "a", "d", "b")] == ["a", "b", "other", "a", "other", "b"]


async def test_the_handler_answers_the_text_format() -> None:
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler)
    runner, base = await serve_app(app)
    metrics.call_finished("door_c", "gpt-5.4", 429, "pool_exhausted", None, 0.01)
    try:
        async with aiohttp.ClientSession() as http, http.get(base + "/metrics") as resp:
            body = await resp.text()
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    finally:
        await runner.cleanup()
    assert '\ngptgate_requests_total{door="door_c",model="gpt-5.4",status="429"} 1.0\n' in body
    assert "\n# TYPE gptgate_time_to_first_token_seconds histogram\n" in body
    assert "\nprocess_cpu_seconds_total " in body


WORKERS = """
import asyncio, os, sys
from gptgate.observability import metrics
metrics.use_multiprocess(sys.argv[1])
pids = []
for n in range(2):
    pid = os.fork()
    if pid == 0:
        for _ in range(3):
            metrics.call_finished("chat", "gpt-5.5", 200, None, 0.2, 1.0)
        metrics.stream_opened()
        asyncio.run(metrics.Flusher().close())  # as a worker's Gateway.close() does
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
metrics.process_dead(pids[0])
sys.stdout.write(metrics.exposition().decode())
"""


def test_workers_values_are_summed(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", WORKERS, str(tmp_path)], capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    assert 'gptgate_requests_total{door="chat",model="gpt-5.5",status="200"} 6.0' in out
    assert 'gptgate_time_to_first_token_seconds_count{door="chat"} 6.0' in out
    assert "gptgate_active_streams 1.0" in out  # the worker marked dead no longer counts
    assert 'gptgate_accounts{state="active"} 0.0' in out
