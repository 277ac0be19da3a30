"""The measured phases: burst CPU and throughput, time to first token, memory of idle streams.

Each phase starts its own simulator and servers, drives the one load-client process, reads the
servers' CPU time (and the simulator's) right before and after the measured window, and returns
plain records (dicts) for the report.
"""

from __future__ import annotations

import contextlib
import os
import select
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from contenders import (
    ALL,
    BURST_ALL,
    BURST_LATER,
    GW_CHAT_BARE,
    GW_CHAT_OPS,
    OPS,
    POOL_ACCOUNT,
    POOL_SIZE,
    RELAYS,
    SERVERS,
    BenchStore,
    Contender,
    Simulator,
    clean_env,
    events_of,
    request_of,
    start_server,
    start_simulator,
)
from procs import OPENER, Proc, Procs, wait_http, wait_quiet

LOADGEN = Path(__file__).resolve().with_name("loadgen.py")
#: Idle streams: the simulator writes one event every ``idle_interval_ms`` (2 s) and the answer
#: has 4 text deltas, so a stream lives 11 intervals (22 s). gptgate holds the preamble (created,
#: in_progress) until the first output event (2 intervals in), the yardstick writes its first
#: chunk at once; RSS is read as soon as every stream has delivered its first bytes, while all
#: are open and idle between two events.
IDLE_DELTAS = 4


@dataclass(frozen=True)
class Plan:
    """How much of everything one mode (smoke / quick / full) does."""

    name: str
    burst: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]  # (workers, ((deltas, requests), ...))
    concurrency: int
    reps: int
    cpu_workers: int
    ttft: tuple[tuple[int, int], ...]  # (concurrency, requests)
    ttft_deltas: int
    ttft_reps: int
    ttft_interval_ms: float
    idle_interval_ms: float
    idle_streams: int
    idle_workers: int
    deadline: float  # seconds, per measured run
    #: the operator-side pair (bare, ops) sends this many times the requests of a run: their
    #: ratio targets are 5 % and 2 %, finer than the others', so their CPU totals are made larger
    #: next to the 10 ms tick of ``/proc`` CPU time and to the machine's jitter
    ops_scale: int = 1

    def warmup(self, requests: int) -> int:
        return max(4, min(200, requests // 10))


class LoadClient:
    """The load-client process (``loadgen.py``) and its line protocol."""

    def __init__(self, procs: Procs, python: str) -> None:
        self.procs = procs
        self.proc = procs.start("loadgen", [python, str(LOADGEN)], clean_env(), pipes=True)
        self.buf = b""
        self.read(30.0)  # hello

    def send(self, obj: dict[str, Any] | str) -> None:
        stdin = self.proc.popen.stdin
        assert stdin is not None
        stdin.write(obj.encode() + b"\n" if isinstance(obj, str) else orjson.dumps(obj) + b"\n")
        stdin.flush()

    def read(self, timeout: float) -> dict[str, Any]:
        stdout = self.proc.popen.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"load client silent for {timeout}s:\n{self.proc.log_tail()}")
            ready, _, _ = select.select([stdout.fileno()], [], [], left)
            if ready:
                chunk = os.read(stdout.fileno(), 1 << 20)
                if not chunk:
                    raise RuntimeError(f"load client exited:\n{self.proc.log_tail()}")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        result: dict[str, Any] = orjson.loads(line)
        return result

    def close(self) -> None:
        self.procs.stop(self.proc)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 3)


def start_servers(
    procs: Procs,
    sim: Simulator,
    workers: int,
    tag: str,
    keys: tuple[str, ...] = SERVERS,
    stores: dict[str, BenchStore] | None = None,
) -> dict[str, tuple[Proc, str]]:
    """The servers ``keys`` at once (they start in parallel), then wait for each; ``stores``
    gives the store of those that need one (by server key)."""
    stores = stores or {}
    started = {
        key: start_server(procs, key, sim, workers, tag, wait=False, store=stores.get(key)) for key in keys
    }
    for proc, base in started.values():
        wait_http(base + "/health", proc)
    wait_quiet([proc for proc, _ in started.values()])
    return started


def stop_servers(procs: Procs, servers: dict[str, tuple[Proc, str]]) -> None:
    for proc, _ in servers.values():
        procs.stop(proc)


def spec_of(
    plan: Plan,
    contender: Contender,
    sim: Simulator,
    servers: dict[str, tuple[Proc, str]],
    deltas: int,
    client_key: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    bases = {key: base for key, (_, base) in servers.items()}
    spec = request_of(contender, sim, bases, deltas, client_key)
    spec.update(kind=contender.kind, expect_deltas=deltas, timeout=30.0, deadline=plan.deadline, **fields)
    return spec


def measure(
    client: LoadClient, spec: dict[str, Any], server: Proc | None, sim: Proc, settle: float = 0.0
) -> dict[str, Any]:
    """Warm up, then run the spec between two readings of the server's and simulator's CPU
    (``settle`` seconds after the warm-up and after the run: see ``contenders.SETTLE_S``)."""
    client.send(spec)
    client.read(120.0)  # ready: warmed up
    time.sleep(settle)
    cpu0 = server.cpu() if server is not None else 0.0
    sim0 = sim.cpu()
    client.send("go")
    result = client.read(spec["deadline"] + 60.0)
    time.sleep(settle)
    result["cpu_s"] = server.cpu() - cpu0 if server is not None else None
    result["sim_cpu_s"] = sim.cpu() - sim0
    return result


def rotate(items: tuple[Contender, ...], by: int) -> tuple[Contender, ...]:
    """The contenders in another order each repetition, so that drift hits each alike."""
    by %= len(items)
    return items[by:] + items[:by]


def burst_record(
    contender: Contender, workers: int, deltas: int, rep: int, spec: dict[str, Any], res: dict[str, Any]
) -> dict[str, Any]:
    ok = max(1, res["ok"])
    cpu = res["cpu_s"]
    return {
        "contender": contender.name,
        "workers": workers if contender.server else None,
        "deltas": deltas,
        "events": events_of(deltas),
        "rep": rep,
        "concurrency": spec["concurrency"],
        "requests": spec["requests"],
        "warmup": spec["warmup"],
        "ok": res["ok"],
        "errors": res["errors"],
        "extra_chunks": res["extra_chunks"],
        "wall_s": round(res["wall"], 3),
        "streams_per_s": round(res["ok"] / res["wall"], 1) if res["wall"] > 0 else None,
        "cpu_ms_per_stream": None if cpu is None else round(cpu * 1000 / ok, 4),
        "sim_cpu_ms_per_stream": round(res["sim_cpu_s"] * 1000 / ok, 4),
        "latency_p50_ms": ms(pct(res["latency"], 0.5)),
    }


def sim_turns(sim: Simulator) -> dict[str, int]:
    """Turns served per ``chatgpt-account-id`` so far (the simulator's ``/_sim/stats``)."""
    with OPENER.open(sim.url + "/_sim/stats", timeout=10.0) as resp:
        turns: dict[str, int] = orjson.loads(resp.read()).get("turns") or {}
    return turns


def pool_check(turns: dict[str, int]) -> dict[str, Any]:
    """How the pool contenders' requests spread over the 50 stored accounts."""
    pooled = {k: n for k, n in turns.items() if POOL_ACCOUNT.fullmatch(k)}
    counts = [pooled.get(f"bench-pool-{i:02d}", 0) for i in range(POOL_SIZE)]
    return {
        "accounts": POOL_SIZE,
        "seen": sum(1 for n in pooled.values() if n),
        "turns_total": sum(pooled.values()),
        "turns_min": min(counts),
        "turns_max": max(counts),
    }


def servers_of(contenders: tuple[Contender, ...]) -> tuple[str, ...]:
    """The servers these contenders talk to, each once."""
    return tuple(dict.fromkeys(c.server for c in contenders if c.server is not None))


def burst_phase(
    procs: Procs, client: LoadClient, plan: Plan, token: str, log: Any, stores: dict[str, BenchStore]
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Per worker count, ``plan.reps`` repetitions; each runs every delta count and, for each, every
    contender (order rotated), so that one repetition's runs are close together in time. The pool
    and operator-side contenders run with the first worker count only.

    Also returns how the pool contenders' requests spread over the stored accounts, as the
    simulator counted them by ``chatgpt-account-id``, and what the ops server recorded (usage
    rows in its store, requests on its ``/metrics``) against what it was sent."""
    records: list[dict[str, Any]] = []
    counted: dict[str, Any] = {}
    sim = start_simulator(procs, "sim-burst", "burst", 0.0, token)
    try:
        for index, (workers, runs) in enumerate(plan.burst):
            contenders = BURST_ALL if index == 0 else BURST_LATER
            servers = start_servers(procs, sim, workers, "burst", servers_of(contenders), stores)
            try:
                for rep in range(plan.reps):
                    for j, (deltas, requests) in enumerate(runs):
                        for contender in rotate(contenders, rep + j):
                            records.append(
                                burst_run(
                                    client, plan, sim, servers, contender, workers, deltas, rep, requests,
                                    stores,
                                )
                            )  # fmt: skip
                            rec = records[-1]
                            log(
                                f"burst w={workers} d={deltas:<3} #{rep} {contender.name:<24} "
                                f"{rec['streams_per_s']:>8} streams/s  cpu {rec['cpu_ms_per_stream']} ms/stream  "
                                f"errors {rec['errors']}"
                            )
                if index == 0:
                    counted = counted_while_running(servers, stores)
            finally:
                stop_servers(procs, servers)
        spread = pool_check(sim_turns(sim))
    finally:
        procs.stop(sim.proc)
    log(
        f"pool: {spread['turns_total']} turns on {spread['seen']}/{spread['accounts']} stored accounts "
        f"({spread['turns_min']}-{spread['turns_max']} each)"
    )
    ops = ops_check(records, stores[GW_CHAT_OPS.server or ""], counted)
    log(
        f"ops: {ops['usage_rows']} usage rows ({ops['keyed_rows']} with the client key) for "
        f"{ops['requests_sent']} requests sent; metrics counted {ops['metrics_requests']} (bare server: "
        f"{ops['bare_metrics_requests']})"
    )
    return records, spread, ops


def metrics_requests(base: str) -> int:
    """The sum of ``gptgate_requests_total`` on a server's ``/metrics`` (0 when metrics are off)."""
    with OPENER.open(base + "/metrics", timeout=10.0) as resp:
        text = resp.read().decode()
    lines = [line for line in text.splitlines() if line.startswith("gptgate_requests_total{")]
    return round(sum(float(line.rsplit(" ", 1)[1]) for line in lines))


def usage_rows(store: BenchStore) -> tuple[int, int]:
    """Rows in the store's usage table, and those made with its client key (read-only)."""
    with contextlib.closing(sqlite3.connect(f"file:{store.path}?mode=ro", uri=True, timeout=10.0)) as db:
        total, keyed = db.execute(
            "SELECT count(*), count(CASE WHEN key_id = ? THEN 1 END) FROM usage", (store.client_key_id,)
        ).fetchone()
    return int(total), int(keyed)


def counted_while_running(
    servers: dict[str, tuple[Proc, str]], stores: dict[str, BenchStore]
) -> dict[str, Any]:
    """After the last run (and its settle), before the servers stop: what the ops server's metrics
    counted, what the bare server's counted (nothing, metrics off) and the usage rows written."""
    ops, bare = GW_CHAT_OPS.server or "", GW_CHAT_BARE.server or ""
    return {
        "metrics_requests": metrics_requests(servers[ops][1]),
        "bare_metrics_requests": metrics_requests(servers[bare][1]),
        "usage_rows_running": usage_rows(stores[ops])[0],
    }


def ops_check(records: list[dict[str, Any]], store: BenchStore, counted: dict[str, Any]) -> dict[str, Any]:
    """Usage rows the ops server wrote (after it stopped) against the requests it was sent
    (warm-up and measured); at most one batch may be missing while it runs."""
    from gptgate.settings import Settings

    batch = int(Settings.model_fields["usage_batch_size"].default)
    sent = sum(r["warmup"] + r["requests"] for r in records if r["contender"] == GW_CHAT_OPS.name)
    total, keyed = usage_rows(store)
    running = counted.get("usage_rows_running")
    return {
        "requests_sent": sent,
        "usage_rows": total,
        "keyed_rows": keyed,
        "usage_rows_running": running,
        "batch_size": batch,
        "recorded": running is not None and running >= sent - batch and keyed >= sent - batch,
        "metrics_requests": counted.get("metrics_requests"),
        "bare_metrics_requests": counted.get("bare_metrics_requests"),
    }


def burst_run(
    client: LoadClient,
    plan: Plan,
    sim: Simulator,
    servers: dict[str, tuple[Proc, str]],
    contender: Contender,
    workers: int,
    deltas: int,
    rep: int,
    requests: int,
    stores: dict[str, BenchStore],
) -> dict[str, Any]:
    store = stores.get(contender.server) if contender.server else None
    if contender in OPS:
        requests *= plan.ops_scale
    spec = spec_of(
        plan, contender, sim, servers, deltas, store.client_key if store else None, mode="burst",
        requests=requests, concurrency=plan.concurrency, warmup=plan.warmup(requests),
    )  # fmt: skip
    server = servers[contender.server][0] if contender.server else None
    res = measure(client, spec, server, sim.proc, contender.settle)
    return burst_record(contender, workers, deltas, rep, spec, res)


def ttft_phase(procs: Procs, client: LoadClient, plan: Plan, token: str, log: Any) -> list[dict[str, Any]]:
    """Every concurrency: ``plan.ttft_reps`` rounds of every contender (order rotated), pooled."""
    records: list[dict[str, Any]] = []
    sim = start_simulator(procs, "sim-paced", "paced", plan.ttft_interval_ms, token)
    try:
        servers = start_servers(procs, sim, plan.idle_workers, "ttft")
        try:
            for concurrency, requests in plan.ttft:
                pooled: dict[str, dict[str, Any]] = {c.name: {"ttft": [], "ok": 0, "errors": {}} for c in ALL}
                for rep in range(plan.ttft_reps):
                    for contender in rotate(ALL, rep):
                        spec = spec_of(
                            plan, contender, sim, servers, plan.ttft_deltas, mode="burst", requests=requests,
                            concurrency=concurrency, warmup=concurrency if concurrency > 1 else 2,
                            stagger=plan.ttft_interval_ms / 1000 / concurrency,
                        )  # fmt: skip
                        res = measure(client, spec, None, sim.proc)
                        pool = pooled[contender.name]
                        pool["ttft"] += res["ttft"]
                        pool["ok"] += res["ok"]
                        for kind, count in res["errors"].items():
                            pool["errors"][kind] = pool["errors"].get(kind, 0) + count
                direct: dict[str, Any] | None = None
                for contender in ALL:
                    rec = ttft_record(
                        contender, concurrency, requests * plan.ttft_reps, pooled[contender.name], direct
                    )
                    direct = direct or rec
                    records.append(rec)
                    log(
                        f"ttft c={concurrency:<3} {contender.name:<18} p50 {rec['p50_ms']} ms "
                        f"p95 {rec['p95_ms']} ms  added p50 {rec['added_p50_ms']}  errors {rec['errors']}"
                    )
        finally:
            stop_servers(procs, servers)
    finally:
        procs.stop(sim.proc)
    return records


def ttft_record(
    contender: Contender, concurrency: int, requests: int, res: dict[str, Any], direct: dict[str, Any] | None
) -> dict[str, Any]:
    p50, p95 = ms(pct(res["ttft"], 0.5)), ms(pct(res["ttft"], 0.95))
    rec: dict[str, Any] = {
        "contender": contender.name,
        "concurrency": concurrency,
        "requests": requests,
        "ok": res["ok"],
        "errors": res["errors"],
        "p50_ms": p50,
        "p95_ms": p95,
        "added_p50_ms": None,
        "added_p95_ms": None,
    }
    if direct is not None and p50 is not None and direct["p50_ms"] is not None:
        rec["added_p50_ms"] = round(p50 - direct["p50_ms"], 3)
    if direct is not None and p95 is not None and direct["p95_ms"] is not None:
        rec["added_p95_ms"] = round(p95 - direct["p95_ms"], 3)
    return rec


def idle_phase(procs: Procs, client: LoadClient, plan: Plan, token: str, log: Any) -> list[dict[str, Any]]:
    """Fresh servers one at a time; RSS of the server tree before and after opening N streams."""
    records: list[dict[str, Any]] = []
    sim = start_simulator(procs, "sim-idle", "paced", plan.idle_interval_ms, token)
    try:
        for contender in RELAYS:
            assert contender.server is not None
            proc, base = start_server(procs, contender.server, sim, plan.idle_workers, "idle")
            wait_quiet([proc])
            try:
                rec = hold_streams(client, plan, contender, sim, {contender.server: (proc, base)}, proc)
            finally:
                procs.stop(proc)
            records.append(rec)
            log(
                f"idle {contender.name:<18} {rec['open']}/{rec['streams']} open  "
                f"+{rec['rss_delta_mb']} MB  {rec['mb_per_1000']} MB per 1,000  {rec['opened']}"
            )
    finally:
        procs.stop(sim.proc)
    return records


def hold_streams(
    client: LoadClient,
    plan: Plan,
    contender: Contender,
    sim: Simulator,
    servers: dict[str, tuple[Proc, str]],
    proc: Proc,
) -> dict[str, Any]:
    spec = spec_of(
        plan, contender, sim, servers, IDLE_DELTAS, mode="idle", streams=plan.idle_streams, warmup=16,
        open_timeout=20.0,
    )  # fmt: skip
    client.send(spec)
    client.read(90.0)  # ready: 16 streams opened (held until the end, in both RSS readings)
    time.sleep(0.5)
    before = proc.rss_mb()
    client.send("go")
    opened: dict[str, int] = client.read(120.0)["opened"]
    time.sleep(0.3)
    after = proc.rss_mb()
    client.send("close")
    client.read(60.0)
    count = opened.get("open", 0)
    return {
        "contender": contender.name,
        "workers": plan.idle_workers,
        "streams": plan.idle_streams,
        "open": count,
        "opened": opened,
        "rss_before_mb": round(before, 2),
        "rss_after_mb": round(after, 2),
        "rss_delta_mb": round(after - before, 2),
        "mb_per_1000": round((after - before) * 1000 / count, 2) if count else None,
    }
