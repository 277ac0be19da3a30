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
POOL1 = ("gptgate-chat-pool1", "gptgate-responses-pool1")  # what the pool is compared with
OPS = ("gptgate-chat-bare", "gptgate-chat-ops")  # burst phase, first worker count only
WEB = ("gptgate-chat-web",)  # burst phase, first worker count only
WS = ("gptgate-responses-ws",)  # burst phase, first worker count only
BURST_CONTENDERS = (*CONTENDERS, *POOL, *POOL1, *OPS, *WEB, *WS)
GPTGATE = ("gptgate-chat", "gptgate-responses", "gptgate-chat-curl", *POOL, *OPS, *WEB, *WS)
TOP = {"meta", "burst", "ttft", "idle", "pool_check", "ops_check", "encoders", "decoders", "summary"}
META = {"date", "mode", "machine", "versions", "duration_s", "yardstick", "ttft_upstream", "plan", "pinning"}
SUMMARY = {
    "burst", "cpu", "cpu_by_workers", "cpu_yardstick", "throughput", "ttft", "idle", "ratios", "curl_vs_aiohttp",
    "pool", "ops", "web", "websocket", "encoders", "targets", "errors", "idle_not_open", "extra_chunks",
}  # fmt: skip
CPU = {"workers", "fixed_ms", "per_event_us", "per_stream_50_ms"}
TTFT = {"p50_ms", "p95_ms", "added_p50_ms", "added_p95_ms", "ok", "errors"}
RATIOS = {"fixed_cpu", "per_event", "per_stream_50", "idle_mb", "streams_per_s_w1", "streams_per_s_w2"}
CURL = RATIOS | {"ttft_added_p50_ms_c1", "ttft_added_p50_ms_c32", "ttft_added_p50_ms_c256"}
BURST = {
    "contender", "workers", "deltas", "events", "rep", "concurrency", "requests", "warmup", "ok", "errors",
    "extra_chunks", "wall_s", "streams_per_s", "cpu_ms_per_stream", "sim_cpu_ms_per_stream", "latency_p50_ms",
}  # fmt: skip
IDLE = {"contender", "workers", "streams", "open", "opened", "rss_before_mb", "rss_after_mb", "rss_delta_mb"}
TARGET = {"target", "contender", "value", "limit", "unit", "pass"}
POOL_CHECK = {"accounts", "seen", "turns_total", "turns_min", "turns_max"}
POOL_RATIO = {"vs", "fixed_cpu", "per_event", "per_stream_50"}
OPS_RATIO = POOL_RATIO | {
    f"{k}_{x}" for k in ("fixed_cpu", "per_event", "per_stream_50") for x in ("reps", "spread")
}
OPS_CHECK = {
    "requests_sent", "usage_rows", "keyed_rows", "usage_rows_running", "batch_size", "recorded",
    "metrics_requests", "bare_metrics_requests",
}  # fmt: skip
ENCODERS = {"plan", "events", "encoders", "absent", "problems", "runs", "summary"}
DECODERS = {"read_bytes", "lengths", "us_per_event", "web_over_codex"}
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
    for name in (*RELAYS, *POOL, *POOL1):
        has(s["cpu"][name], CPU, f"cpu {name}")
        has(s["cpu_by_workers"]["w1"][name], CPU, f"cpu w1 {name}")
        assert set(s["throughput"]["relays"][name]) == {"w1", "w2"}
    for name in (*OPS, *WEB, *WS):  # the first worker count only
        has(s["cpu"][name], CPU, f"cpu {name}")
        has(s["cpu_by_workers"]["w2"][name], CPU, f"cpu w2 {name}")
        assert name not in s["cpu_by_workers"]["w1"]
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
    for name, single in zip(POOL, POOL1, strict=True):
        has(s["pool"]["ratios"][name], POOL_RATIO, f"pool {name}")
        assert s["pool"]["ratios"][name]["vs"] == single
    has(s["pool"]["check"], POOL_CHECK, "pool check")
    assert set(s["ops"]["ratios"]) == {"gptgate-chat-ops"}
    assert set(s["ops"]["metrics_alone"]) == {"gptgate-chat"}
    for row in (*s["ops"]["ratios"].values(), *s["ops"]["metrics_alone"].values()):
        has(row, OPS_RATIO, "ops ratios")
        assert row["vs"] == "gptgate-chat-bare"
    has(s["ops"]["check"], OPS_CHECK, "ops check")
    encoders = s["encoders"]
    assert set(encoders) == {"text", "mixed"}
    for row in encoders.values():
        assert "chat" in row
        for name, figures in row.items():
            has(figures, ENCODER, f"encoder {name}")
    assert set(s["web"]["ratios"]) == set(WEB)
    has(s["web"]["ratios"]["gptgate-chat-web"], OPS_RATIO, "web ratios")
    assert s["web"]["ratios"]["gptgate-chat-web"]["vs"] == "gptgate-chat"
    has(s["web"]["decoders"], DECODERS, "web decoders")
    kinds = [t["target"] for t in s["targets"]]
    assert len(kinds) == 14 + 2 * len(POOL) + 2 + 1 + 1 + sum(len(row) - 1 for row in encoders.values())
    chat = [(t["target"], t["limit"]) for t in s["targets"] if t["contender"] == "gptgate-chat"]
    yard_256 = s["ttft"]["yardstick"]["c256"]["added_p50_ms"]
    assert chat == [  # issue 12's table
        ("fixed CPU per request", 1.2),
        ("CPU per event", 1.0),
        ("CPU per 50-event stream", 1.1),
        ("MB per 1,000 idle streams", 1.15),
        ("added TTFT p50 at c=1", 1.0),
        ("added TTFT p50 at c=32", round(s["ttft"]["yardstick"]["c32"]["added_p50_ms"] + 1.0, 2)),
        ("added TTFT p50 at c=256", round(yard_256 + 20.0, 2)),
    ]
    resp = {t["target"]: t["limit"] for t in s["targets"] if t["contender"] == "gptgate-responses"}
    assert resp["CPU per event"] == 0.7
    web = [t for t in s["targets"] if t["target"].startswith("web")]
    assert [(t["target"], t["contender"], t["limit"], t["unit"]) for t in web] == [
        ("web upstream CPU per event", "gptgate-chat-web", 1.5, "× gptgate-chat"),
    ]
    assert set(s["websocket"]["ratios"]) == set(WS)
    has(s["websocket"]["ratios"]["gptgate-responses-ws"], OPS_RATIO, "websocket ratios")
    assert s["websocket"]["ratios"]["gptgate-responses-ws"]["vs"] == "gptgate-responses"
    ws = [t for t in s["targets"] if t["target"].startswith("WebSocket")]
    assert [(t["target"], t["contender"], t["limit"], t["unit"]) for t in ws] == [
        ("WebSocket CPU per turn (50 deltas)", "gptgate-responses-ws", 1.0, "× gptgate-responses"),
    ]
    assert kinds.count("pool50 CPU per event") == len(POOL)
    ops = [t for t in s["targets"] if t["target"].startswith("operator side")]
    assert [(t["target"], t["contender"], t["limit"], t["unit"]) for t in ops] == [
        ("operator side fixed CPU per request", "gptgate-chat-ops", 1.05, "× gptgate-chat-bare"),
        ("operator side CPU per event", "gptgate-chat-ops", 1.02, "× gptgate-chat-bare"),
    ]
    for target in s["targets"]:
        has(target, TARGET, "target")


def test_pool_serves_from_the_store(report: tuple[dict[str, Any], Path]) -> None:
    """The pool server answered from its 50 stored accounts, several of them (round robin)."""
    check = report[0]["pool_check"]
    assert check["accounts"] == 50
    assert check["seen"] > 1, check
    assert check["turns_total"] >= sum(r["ok"] for r in report[0]["burst"] if r["contender"] in POOL), check


def test_ops_server_records_usage_and_metrics(report: tuple[dict[str, Any], Path]) -> None:
    """The ops server wrote a usage row per request made with the client key (at most one batch
    short while running, none after its clean stop), counted them on /metrics; the bare server
    counted nothing (metrics off)."""
    check = report[0]["ops_check"]
    runs = [r for r in report[0]["burst"] if r["contender"] == "gptgate-chat-ops"]
    sent = sum(r["warmup"] + r["requests"] for r in runs)
    assert sent > 0 and {r["workers"] for r in runs} == {2}
    assert check["requests_sent"] == sent
    assert check["recorded"] is True, check
    assert check["usage_rows"] == check["keyed_rows"] == sent, check
    assert check["metrics_requests"] >= sent - check["batch_size"], check
    assert check["bare_metrics_requests"] == 0, check


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


def test_web_contender_streams_through_the_web_upstream(report: tuple[dict[str, Any], Path]) -> None:
    """The web contender's streams all validated (every delta, finish, [DONE]) and the in-process
    decoders decoded the same text (``decoders.measure`` checks it) with figures for both."""
    data = report[0]
    runs = [r for r in data["burst"] if r["contender"] == "gptgate-chat-web"]
    assert runs and all(r["ok"] == r["requests"] and not r["errors"] for r in runs), runs
    assert {r["workers"] for r in runs} == {2}
    has(data["decoders"], DECODERS, "decoders")
    for name in ("codex", "web"):
        assert all(v > 0 for v in data["decoders"]["us_per_event"][name].values())
    assert "## Web upstream" in (report[1] / next(report[1].glob("*.md")).name).read_text()


def test_websocket_contender_carries_every_turn(report: tuple[dict[str, Any], Path]) -> None:
    """The WebSocket contender's turns all validated (every delta, ``response.completed`` as the
    last frame of each turn) on the same server as the HTTP Responses contender, and the report
    has its table."""
    data = report[0]
    runs = [r for r in data["burst"] if r["contender"] == "gptgate-responses-ws"]
    assert runs and all(r["ok"] == r["requests"] and not r["errors"] for r in runs), runs
    assert {r["workers"] for r in runs} == {2}
    assert {r["deltas"] for r in runs} == {
        r["deltas"] for r in data["burst"] if r["contender"] == "gptgate-responses"
    }
    assert all(r["cpu_ms_per_stream"] is not None for r in runs)
    assert (
        "## Responses over WebSocket vs HTTP streams"
        in (report[1] / next(report[1].glob("*.md")).name).read_text()
    )
