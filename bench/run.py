"""gptgate's benchmark, one command: ``.venv/bin/python bench/run.py [--quick | --smoke]``.

Side by side in one run, against one simulator per phase: a direct read of the simulator (the
ceiling), the yardstick ``shared/bench/floor_relay.py``, gptgate chat completions, gptgate
Responses pass-through, gptgate chat over the curl_cffi transport and (burst phase) gptgate chat
and Responses serving a 50-account pool from its account store, and gptgate chat with the
operator's side (client key limits, usage accounting, metrics) off and on, and gptgate chat for a web
model on the ChatGPT web upstream (delta-v1). Then, in this process, the stream encoders' CPU per
event (chat, Anthropic Messages, Gemini) and the two upstream decoders' (Codex, web). Prints the tables and writes
``bench/results/<timestamp>.{json,md}``. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import platform
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
from contenders import (
    FLOOR_RELAY,
    GW_CHAT_OPS,
    GW_CHAT_POOL,
    GW_CHAT_POOL1,
    OPS_LIMITS,
    POOL_SIZE,
    PYTHON,
    make_ops_store,
    make_pool1_store,
    make_pool_store,
    make_token,
)
from decoders import LENGTHS
from decoders import measure as measure_decoders
from encoders import EncoderPlan, encoder_phase
from phases import LoadClient, Plan, burst_phase, idle_phase, ttft_phase
from procs import Procs
from report import markdown, summarize

RESULTS = Path(__file__).resolve().parent / "results"

PLANS = {
    "full": Plan(
        name="full",
        burst=(
            (2, ((8, 2000), (50, 1200), (200, 500))),
            (1, ((8, 2000), (50, 1200), (200, 500))),
        ),
        concurrency=64,
        reps=5,
        cpu_workers=2,
        ttft=((1, 30), (32, 320), (256, 1024)),
        ttft_deltas=3,
        ttft_reps=2,
        ttft_interval_ms=20.0,
        idle_interval_ms=2000.0,
        idle_streams=1000,
        idle_workers=2,
        deadline=120.0,
        ops_scale=2,
    ),
    "quick": Plan(
        name="quick",
        burst=((2, ((8, 800), (50, 600), (200, 250))), (1, ((50, 600),))),
        concurrency=64,
        reps=1,
        cpu_workers=2,
        ttft=((1, 12), (32, 128), (256, 256)),
        ttft_deltas=3,
        ttft_reps=1,
        ttft_interval_ms=20.0,
        idle_interval_ms=2000.0,
        idle_streams=400,
        idle_workers=2,
        deadline=60.0,
    ),
    "smoke": Plan(
        name="smoke",
        burst=((2, ((8, 12), (50, 12), (200, 6))), (1, ((50, 12),))),
        concurrency=8,
        reps=1,
        cpu_workers=2,
        ttft=((1, 2), (32, 32), (256, 256)),
        ttft_deltas=1,
        ttft_reps=1,
        ttft_interval_ms=10.0,
        idle_interval_ms=250.0,
        idle_streams=20,
        idle_workers=1,
        deadline=20.0,
    ),
}


#: The in-process encoder phase, per mode: (short deltas, long deltas, streams timed in a row at
#: each length, repetitions). A 400-delta stream costs the chat encoder about 0.5 ms.
ENCODER_PLANS = {
    "full": EncoderPlan(short=8, long=400, short_streams=1000, long_streams=100, reps=9),
    "quick": EncoderPlan(short=8, long=400, short_streams=400, long_streams=40, reps=5),
    "smoke": EncoderPlan(short=8, long=400, short_streams=20, long_streams=2, reps=1),
}
#: The in-process decoder phase (``decoders.py``), per mode: (lengths, repetitions, CPU seconds
#: per timed sample).
DECODER_PLANS: dict[str, tuple[tuple[int, ...], int, float]] = {
    "full": (LENGTHS, 5, 0.3),
    "quick": (LENGTHS, 3, 0.2),
    "smoke": ((50, 400), 1, 0.02),
}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("gptgate", "aiohttp", "orjson", "uvloop", "curl_cffi"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def machine() -> str:
    model = "unknown cpu"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, load {os.getloadavg()[0]:.2f}"


def meta(plan: Plan, started: float) -> dict[str, Any]:
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "mode": plan.name,
        "machine": machine(),
        "versions": versions(),
        "duration_s": round(time.monotonic() - started, 1),
        "yardstick": str(FLOOR_RELAY),
        "ttft_upstream": f"paced upstream, {plan.ttft_interval_ms:g} ms between events, "
        f"{plan.ttft_deltas} text deltas, {plan.idle_workers} workers",
        "plan": {
            "burst": [
                {"workers": w, "runs": [{"deltas": d, "requests": n} for d, n in runs]}
                for w, runs in plan.burst
            ],
            "concurrency": plan.concurrency,
            "reps": plan.reps,
            "ttft_reps": plan.ttft_reps,
            "cpu_workers": plan.cpu_workers,
            "ttft": [{"concurrency": c, "requests": n} for c, n in plan.ttft],
            "idle_streams": plan.idle_streams,
            "idle_workers": plan.idle_workers,
            "pool_accounts": POOL_SIZE,
            "ops_scale": plan.ops_scale,
            "ops_key_limits": OPS_LIMITS,
            "encoders": dataclasses.asdict(ENCODER_PLANS[plan.name]),
            "decoders": DECODER_PLANS[plan.name],
        },
        "pinning": "none: servers, simulator and load client share both cores (see bench/README.md)",
    }


def log(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(plan: Plan, results_dir: Path) -> dict[str, Any]:
    started = time.monotonic()
    token = make_token()
    with tempfile.TemporaryDirectory(prefix="gptgate-bench-") as tmp:
        procs = Procs(Path(tmp))
        try:
            with ThreadPoolExecutor(1) as side:  # the stores are made while the load client starts
                pool = side.submit(make_pool_store, Path(tmp) / "pool", POOL_SIZE)
                pool1 = side.submit(make_pool1_store, Path(tmp) / "pool1")
                ops = side.submit(make_ops_store, Path(tmp) / "ops")
                client = LoadClient(procs, PYTHON)
                stores = {
                    GW_CHAT_POOL.server or "": pool.result(),
                    GW_CHAT_POOL1.server or "": pool1.result(),
                    GW_CHAT_OPS.server or "": ops.result(),
                }
            log(f"{plan.name} run: burst CPU and streams/s")
            burst, pool_spread, ops_check = burst_phase(procs, client, plan, token, log, stores)
            log("time to first token (paced upstream)")
            ttft = ttft_phase(procs, client, plan, token, log)
            log("memory of open idle streams")
            idle = idle_phase(procs, client, plan, token, log)
        finally:
            procs.stop_all()
        log("stream encoders, CPU per event (in-process)")
        encoders = encoder_phase(ENCODER_PLANS[plan.name], log)
        log("upstream decoders, CPU per event (in-process)")
        decoders = measure_decoders(*DECODER_PLANS[plan.name])
    results: dict[str, Any] = {"meta": meta(plan, started), "burst": burst, "ttft": ttft, "idle": idle}
    results["pool_check"] = pool_spread
    results["ops_check"] = ops_check
    results["encoders"] = encoders
    results["decoders"] = decoders
    results["summary"] = summarize(plan, burst, ttft, idle, pool_spread, encoders, ops_check, decoders)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer requests (under ~2 minutes)")
    mode.add_argument("--smoke", action="store_true", help="a few requests each: does the harness work?")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where the JSON and Markdown go")
    args = parser.parse_args(argv)
    plan = PLANS["smoke" if args.smoke else "quick" if args.quick else "full"]
    if not FLOOR_RELAY.exists():
        parser.error(f"yardstick not found: {FLOOR_RELAY} (set BENCH_FLOOR_RELAY)")
    signal.signal(signal.SIGTERM, _terminate)
    try:
        results = run(plan, args.results_dir)
    except KeyboardInterrupt:
        log("interrupted; every started process was stopped")
        return 130
    text = markdown(results)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{plan.name}"
    json_path, md_path = args.results_dir / f"{stamp}.json", args.results_dir / f"{stamp}.md"
    json_path.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    md_path.write_text(text)
    print(text)
    log(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
