"""The benchmark harness works: ``bench/run.py --smoke`` exits 0 and writes a complete report.

Not a performance assertion: the smoke mode sends a few requests per contender and its figures
mean nothing. It does check that every stream validated (the harness reads every stream to its
end) and that every key of the JSON report is present.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "bench" / "run.py"
FLOOR_RELAY = Path(os.environ.get("BENCH_FLOOR_RELAY", str(ROOT / "bench" / "yardstick" / "floor_relay.py")))

RELAYS = ("yardstick", "gptgate-chat", "gptgate-responses", "gptgate-chat-curl")
CONTENDERS = ("direct", *RELAYS)
POOL = ("gptgate-chat-pool50", "gptgate-responses-pool50")  # burst phase only
BURST_CONTENDERS = (*CONTENDERS, *POOL)
GPTGATE = ("gptgate-chat", "gptgate-responses", "gptgate-chat-curl", *POOL)
TOP = {"meta", "burst", "ttft", "idle", "pool_check", "encoders", "summary"}
META = {"date", "mode", "machine", "versions", "duration_s", "yardstick", "ttft_upstream", "plan", "pinning"}
SUMMARY = {
    "burst", "cpu", "cpu_by_workers", "cpu_yardstick", "throughput", "ttft", "idle", "ratios", "curl_vs_aiohttp",
    "pool", "encoders", "targets", "errors", "idle_not_open", "extra_chunks",
}  # fmt: skip
CPU = {"workers", "fixed_ms", "per_event_us", "per_stream_50_ms"}
TTFT = {"p50_ms", "p95_ms", "added_p50_ms", "added_p95_ms", "ok", "errors"}
RATIOS = {"fixed_cpu", "per_event", "per_stream_50", "idle_mb", "streams_per_s_w1", "streams_per_s_w2"}
CURL = RATIOS | {"ttft_added_p50_ms_c1", "ttft_added_p50_ms_c32", "ttft_added_p50_ms_c256"}
BURST = {
    "contender", "workers", "deltas", "events", "rep", "concurrency", "requests", "ok", "errors",
    "extra_chunks", "wall_s", "streams_per_s", "cpu_ms_per_stream", "sim_cpu_ms_per_stream", "latency_p50_ms",
}  # fmt: skip
IDLE = {"contender", "workers", "streams", "open", "opened", "rss_before_mb", "rss_after_mb", "rss_delta_mb"}
TARGET = {"target", "contender", "value", "limit", "unit", "pass"}
POOL_CHECK = {"accounts", "seen", "turns_total", "turns_min", "turns_max"}
POOL_RATIO = {"vs", "fixed_cpu", "per_event", "per_stream_50"}
ENCODERS = {"plan", "events", "encoders", "absent", "problems", "runs", "summary"}
ENCODER = {"per_event_us", "fixed_us", "per_event_ratio", "fixed_ratio", "per_event_us_reps", "valid"}

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
    pytest.mark.skipif(not FLOOR_RELAY.exists(), reason=f"yardstick {FLOOR_RELAY} not present"),
]


def has(obj: dict[str, Any], keys: set[str], where: str) -> None:
    missing = keys - obj.keys()
    assert not missing, f"{where}: missing {sorted(missing)}"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, str(RUN), "--smoke", "--results-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "## Targets" in proc.stdout
    files = sorted(out.glob("*.json"))
    assert len(files) == 1, files
    assert files[0].with_suffix(".md").exists()
    return json.loads(files[0].read_text()), out


def test_every_top_level_key(report: tuple[dict[str, Any], Path]) -> None:
    data, _ = report
    has(data, TOP, "report")
    has(data["meta"], META, "meta")
    assert data["meta"]["mode"] == "smoke"
    has(data["summary"], SUMMARY, "summary")


def test_every_record_key(report: tuple[dict[str, Any], Path]) -> None:
    data, _ = report
    assert {r["contender"] for r in data["burst"]} == set(BURST_CONTENDERS)
    for rec in data["burst"]:
        has(rec, BURST, f"burst {rec['contender']}")
    assert {(r["contender"], r["concurrency"]) for r in data["ttft"]} == {
        (c, level) for c in CONTENDERS for level in (1, 32, 256)
    }
    assert {r["contender"] for r in data["idle"]} == set(RELAYS)
    for rec in data["idle"]:
        has(rec, IDLE | {"mb_per_1000"}, f"idle {rec['contender']}")


def test_every_summary_key(report: tuple[dict[str, Any], Path]) -> None:
    s = report[0]["summary"]
    assert set(s["cpu_by_workers"]) == {"w1", "w2"}
    for name in (*RELAYS, *POOL):
        has(s["cpu"][name], CPU, f"cpu {name}")
        has(s["cpu_by_workers"]["w1"][name], CPU, f"cpu w1 {name}")
        assert set(s["throughput"]["relays"][name]) == {"w1", "w2"}
    for name in RELAYS:
        has(s["idle"][name], {"streams", "open", "mb_per_1000"}, f"idle {name}")
    has(s["throughput"], {"deltas", "concurrency", "direct", "relays"}, "throughput")
    for name in CONTENDERS:
        for level in ("c1", "c32", "c256"):
            has(s["ttft"][name][level], TTFT, f"ttft {name} {level}")
    for name in GPTGATE:
        has(s["ratios"][name], RATIOS, f"ratios {name}")
    has(s["curl_vs_aiohttp"], CURL, "curl_vs_aiohttp")
    assert set(s["pool"]["ratios"]) == set(POOL)
    for name in POOL:
        has(s["pool"]["ratios"][name], POOL_RATIO, f"pool {name}")
    has(s["pool"]["check"], POOL_CHECK, "pool check")
    encoders = s["encoders"]
    assert set(encoders) == {"text", "mixed"}
    for row in encoders.values():
        assert "chat" in row
        for name, figures in row.items():
            has(figures, ENCODER, f"encoder {name}")
    kinds = [t["target"] for t in s["targets"]]
    assert len(kinds) == 10 + 2 * len(POOL) + sum(len(row) - 1 for row in encoders.values())
    assert kinds.count("pool50 CPU per event") == len(POOL)
    for target in s["targets"]:
        has(target, TARGET, "target")


def test_pool_serves_from_the_store(report: tuple[dict[str, Any], Path]) -> None:
    """The pool server answered from its 50 stored accounts, several of them (round robin)."""
    check = report[0]["pool_check"]
    assert check["accounts"] == 50
    assert check["seen"] > 1, check
    assert check["turns_total"] >= sum(r["ok"] for r in report[0]["burst"] if r["contender"] in POOL), check


def test_encoders_measured_and_checked(report: tuple[dict[str, Any], Path]) -> None:
    data = report[0]["encoders"]
    has(data, ENCODERS, "encoders")
    assert "chat" in data["encoders"] and "anthropic" in data["encoders"]
    assert data["problems"] == {}, data["problems"]
    assert {r["encoder"] for r in data["runs"]} == set(data["encoders"])
    for row in data["summary"].values():
        for figures in row.values():
            assert figures["per_event_us"] is not None and figures["per_event_us"] > 0


def test_every_stream_validated(report: tuple[dict[str, Any], Path]) -> None:
    s = report[0]["summary"]
    assert s["errors"] == 0
    assert s["idle_not_open"] == 0
    assert s["extra_chunks"] == 0
