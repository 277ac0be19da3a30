"""From the phases' records to the summary (fits, ratios, targets) and the Markdown tables."""

from __future__ import annotations

import statistics
from typing import Any

from contenders import (
    BURST_RELAYS,
    DIRECT,
    GW_CHAT,
    GW_CHAT_BARE,
    GW_CURL,
    GW_RESP,
    OPS,
    OPS_PAIRS,
    POOL,
    POOL1,
    POOL_PAIRS,
    RELAYS,
    WEB,
    WEB_PAIRS,
    WS,
    WS_PAIRS,
    YARDSTICK,
)
from targets import (
    ENCODER_LIMIT,
    OPS_EVENT_LIMIT,
    OPS_FIXED_LIMIT,
    POOL_LIMIT,
    TTFT_CONCURRENCIES,
    WEB_LIMIT,
    WS_LIMIT,
    targets,
)

GPTGATE = (GW_CHAT.name, GW_RESP.name)  # the default (aiohttp) transport: the targets apply
VS_YARDSTICK = (*GPTGATE, GW_CURL.name, *(c.name for c in (*POOL, *POOL1, *OPS, *WEB, *WS)))
Record = dict[str, Any]


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else round(a / b, 2)


def find(records: list[Record], **match: Any) -> Record | None:
    for rec in records:
        if all(rec.get(k) == v for k, v in match.items()):
            return rec
    return None


def aggregate(burst: list[Record]) -> list[Record]:
    """One record per (contender, workers, deltas): the median of its repetitions."""
    cells: dict[tuple[str, int | None, int], list[Record]] = {}
    for rec in burst:
        cells.setdefault((rec["contender"], rec["workers"], rec["deltas"]), []).append(rec)
    out = []
    for (name, workers, deltas), recs in cells.items():
        row: Record = {"contender": name, "workers": workers, "deltas": deltas, "events": recs[0]["events"]}
        row["reps"] = len(recs)
        row["concurrency"] = recs[0]["concurrency"]
        for key in ("streams_per_s", "cpu_ms_per_stream", "sim_cpu_ms_per_stream"):
            values = [r[key] for r in recs if r[key] is not None]
            row[key] = round(statistics.median(values), 4) if values else None
        out.append(row)
    return out


def med(values: list[float | None], digits: int = 3) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), digits) if present else None


def per_rep(raw: list[Record], name: str, workers: int) -> dict[int, Record]:
    """Per repetition: the fit ``cpu = fixed + per_event × events`` from its fewest- and
    most-delta runs, and its 50-delta CPU and streams/s. A repetition's runs are adjacent in time,
    so comparing contenders within one repetition cancels the machine's slow drift."""
    runs = [r for r in raw if r["contender"] == name and r["workers"] == workers]
    out: dict[int, Record] = {}
    for rep in sorted({r["rep"] for r in runs}):
        cells = {r["deltas"]: r for r in runs if r["rep"] == rep}
        row: Record = {}
        lo, hi = cells[min(cells)], cells[max(cells)]
        if lo is not hi and lo["cpu_ms_per_stream"] is not None and hi["cpu_ms_per_stream"] is not None:
            per_event_ms = (hi["cpu_ms_per_stream"] - lo["cpu_ms_per_stream"]) / (hi["events"] - lo["events"])
            row["per_event_us"] = per_event_ms * 1000
            row["fixed_ms"] = lo["cpu_ms_per_stream"] - per_event_ms * lo["events"]
        if 50 in cells:
            row["per_stream_50_ms"] = cells[50]["cpu_ms_per_stream"]
            row["streams_per_s_50"] = cells[50]["streams_per_s"]
        out[rep] = row
    return out


def cpu_fit(raw: list[Record], name: str, workers: int) -> Record:
    """Medians over the repetitions of the per-repetition fits (see ``per_rep``)."""
    reps = per_rep(raw, name, workers).values()
    return {
        "workers": workers,
        "reps": len(reps),
        "fixed_ms": med([r.get("fixed_ms") for r in reps]),
        "per_event_us": med([r.get("per_event_us") for r in reps], 2),
        "per_stream_50_ms": med([r.get("per_stream_50_ms") for r in reps]),
        "fixed_ms_reps": [round(r["fixed_ms"], 3) for r in reps if "fixed_ms" in r],
        "per_event_us_reps": [round(r["per_event_us"], 2) for r in reps if "per_event_us" in r],
    }


def rep_ratios(raw: list[Record], name: str, base: str, workers: int, key: str) -> list[float]:
    """Per repetition: ``name``'s figure ÷ ``base``'s in the same repetition (where both exist)."""
    mine, theirs = per_rep(raw, name, workers), per_rep(raw, base, workers)
    values: list[float] = []
    for rep, row in mine.items():
        a, b = row.get(key), theirs.get(rep, {}).get(key)
        if a is not None and b is not None and b > 0:
            values.append(a / b)
    return values


def rep_ratio(raw: list[Record], name: str, base: str, workers: int, key: str) -> float | None:
    """Median over the repetitions of ``name``'s figure ÷ ``base``'s in the same repetition."""
    return med(list(rep_ratios(raw, name, base, workers, key)), 2)


def throughput(burst: list[Record], deltas: int, concurrency: int) -> Record:
    direct = find(burst, contender=DIRECT.name, deltas=deltas)
    relays: Record = {}
    for c in BURST_RELAYS:
        relays[c.name] = {
            f"w{w}": (
                rec["streams_per_s"]
                if (rec := find(burst, contender=c.name, deltas=deltas, workers=w))
                else None
            )
            for w in (1, 2)
        }
    return {
        "deltas": deltas,
        "concurrency": concurrency,
        "direct": direct["streams_per_s"] if direct else None,
        "relays": relays,
    }


def ttft_summary(ttft: list[Record]) -> Record:
    out: Record = {}
    for rec in ttft:
        keep = ("p50_ms", "p95_ms", "added_p50_ms", "added_p95_ms", "ok", "errors")
        out.setdefault(rec["contender"], {})[f"c{rec['concurrency']}"] = {k: rec[k] for k in keep}
    return out


def summarize(
    plan: Any,
    raw_burst: list[Record],
    ttft: list[Record],
    idle: list[Record],
    pool_check: Record | None = None,
    encoders: Record | None = None,
    ops_check: Record | None = None,
    decoders: Record | None = None,
) -> Record:
    burst = aggregate(raw_burst)
    w = plan.cpu_workers
    cpu = {c.name: cpu_fit(raw_burst, c.name, w) for c in BURST_RELAYS}
    mem = {r["contender"]: {k: r[k] for k in ("streams", "open", "mb_per_1000")} for r in idle}
    tput = throughput(burst, 50, plan.concurrency)
    lat = ttft_summary(ttft)

    def versus(name: str, base: str) -> Record:
        return {
            "fixed_cpu": rep_ratio(raw_burst, name, base, w, "fixed_ms"),
            "per_event": rep_ratio(raw_burst, name, base, w, "per_event_us"),
            "per_stream_50": rep_ratio(raw_burst, name, base, w, "per_stream_50_ms"),
            "idle_mb": ratio(mem.get(name, {}).get("mb_per_1000"), mem.get(base, {}).get("mb_per_1000")),
            "streams_per_s_w1": rep_ratio(raw_burst, name, base, 1, "streams_per_s_50"),
            "streams_per_s_w2": rep_ratio(raw_burst, name, base, 2, "streams_per_s_50"),
        }

    ratios = {name: versus(name, YARDSTICK.name) for name in VS_YARDSTICK}
    curl = versus(GW_CURL.name, GW_CHAT.name)
    for c in TTFT_CONCURRENCIES:
        added = [lat.get(n, {}).get(f"c{c}", {}).get("added_p50_ms") for n in (GW_CHAT.name, GW_CURL.name)]
        curl[f"ttft_added_p50_ms_c{c}"] = {"aiohttp": added[0], "curl_cffi": added[1]}
    by_workers: Record = {}
    for n in sorted({r["workers"] for r in burst if r["workers"]}):
        ran = {r["contender"] for r in raw_burst if r["workers"] == n}
        fits: Record = {c.name: cpu_fit(raw_burst, c.name, n) for c in BURST_RELAYS if c.name in ran}
        fits["ratios"] = {
            name: {
                "fixed_cpu": rep_ratio(raw_burst, name, YARDSTICK.name, n, "fixed_ms"),
                "per_event": rep_ratio(raw_burst, name, YARDSTICK.name, n, "per_event_us"),
            }
            for name in (*GPTGATE, GW_CURL.name)
        }
        fits["pool_ratios"] = pool_ratios(raw_burst, n)
        by_workers[f"w{n}"] = fits
    pool = {"workers": w, "ratios": pool_ratios(raw_burst, w), "check": pool_check or {}}
    ops = {
        "workers": w,
        "ratios": ops_ratios(raw_burst, w, OPS_PAIRS),
        # gptgate-chat differs from bare only by metrics (on by default): metrics alone
        "metrics_alone": ops_ratios(raw_burst, w, ((GW_CHAT, GW_CHAT_BARE),)),
        "check": ops_check or {},
    }
    # the web upstream's chat ÷ the Codex chat, same figures and spread as the operator's side
    web = {"workers": w, "ratios": ops_ratios(raw_burst, w, WEB_PAIRS), "decoders": decoders or {}}
    # the Responses WebSocket ÷ the same turns as HTTP streams on the same server, same figures
    websocket = {"workers": w, "ratios": ops_ratios(raw_burst, w, WS_PAIRS)}
    return {
        "burst": burst,
        "cpu": cpu,
        "cpu_by_workers": by_workers,
        "cpu_yardstick": cpu[YARDSTICK.name],
        "throughput": tput,
        "ttft": lat,
        "idle": mem,
        "ratios": ratios,
        "curl_vs_aiohttp": curl,
        "pool": pool,
        "ops": ops,
        "web": web,
        "websocket": websocket,
        "encoders": (encoders or {}).get("summary", {}),
        "targets": targets(ratios, lat, pool, (encoders or {}).get("summary", {}), ops, web, websocket),
        "errors": sum(sum(r["errors"].values()) for r in (*raw_burst, *ttft)),
        "idle_not_open": sum(r["streams"] - r["open"] for r in idle),
        "extra_chunks": sum(r["extra_chunks"] for r in raw_burst),
    }


def pool_ratios(raw: list[Record], workers: int) -> Record:
    """Each pool contender ÷ the same kind on one account, per-repetition ratios' medians."""
    return {
        pooled.name: {
            "vs": single.name,
            "fixed_cpu": rep_ratio(raw, pooled.name, single.name, workers, "fixed_ms"),
            "per_event": rep_ratio(raw, pooled.name, single.name, workers, "per_event_us"),
            "per_stream_50": rep_ratio(raw, pooled.name, single.name, workers, "per_stream_50_ms"),
        }
        for pooled, single in POOL_PAIRS
    }


OPS_FIGURES = (
    ("fixed_cpu", "fixed_ms"),
    ("per_event", "per_event_us"),
    ("per_stream_50", "per_stream_50_ms"),
)


def ops_ratios(raw: list[Record], workers: int, pairs: tuple[tuple[Any, Any], ...]) -> Record:
    """Each operator-side contender ÷ the bare one: per-repetition ratios, their median, and
    their spread (max − min) as the noise seen between repetitions."""
    out: Record = {}
    for mine, base in pairs:
        row: Record = {"vs": base.name}
        for figure, key in OPS_FIGURES:
            values = rep_ratios(raw, mine.name, base.name, workers, key)
            row[figure] = med(list(values), 3)
            row[f"{figure}_reps"] = [round(v, 3) for v in values]
            row[f"{figure}_spread"] = round(max(values) - min(values), 3) if len(values) > 1 else None
        out[mine.name] = row
    return out


# -- Markdown ----------------------------------------------------------------------------------
def fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
        return text + suffix
    return f"{value}{suffix}"


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def markdown(results: Record) -> str:
    s, meta = results["summary"], results["meta"]
    out = [f"# gptgate benchmark, {meta['date']} ({meta['mode']})", "", meta["machine"], ""]
    out += [*cpu_table(s), "", *throughput_table(s["burst"]), ""]
    out += [*ttft_table(s["ttft"], meta), "", *idle_table(results["idle"], s), ""]
    out += [*pool_table(s), "", *ops_table(s), "", *web_table(s), "", *ws_table(s), ""]
    out += [*encoder_table(results.get("encoders") or {}), ""]
    out += ["## Targets", ""]
    rows = [
        [t["target"], t["contender"], fmt(t["value"]), f"≤ {t['limit']} {t['unit']}",
         "–" if t["pass"] is None else "PASS" if t["pass"] else "MISS"]
        for t in s["targets"]
    ]  # fmt: skip
    out += [*table(["target", "contender", "value", "limit", "result"], rows), ""]
    out += ["## curl_cffi transport vs aiohttp (gptgate chat; no target)", ""]
    curl = s["curl_vs_aiohttp"]
    rows = [[k, fmt(curl[k], "×")] for k in ("fixed_cpu", "per_event", "per_stream_50", "idle_mb")]
    rows += [[k, fmt(curl[k], "×")] for k in ("streams_per_s_w1", "streams_per_s_w2")]
    rows += [
        [k, f"{fmt(v['aiohttp'])} ms → {fmt(v['curl_cffi'])} ms"]
        for k, v in curl.items()
        if k.startswith("ttft")
    ]
    out += [*table(["figure (curl_cffi ÷ aiohttp)", "value"], rows), ""]
    out.append(
        f"Validation: {s['errors']} stream errors, {s['idle_not_open']} idle streams not open, "
        f"{s['extra_chunks']} unexpected chat chunks (reasoning etc.)."
    )
    return "\n".join(out) + "\n"


def cpu_table(s: Record) -> list[str]:
    y = s["cpu_yardstick"]
    rows = []
    for c in BURST_RELAYS:
        v, r = s["cpu"][c.name], s["ratios"].get(c.name, {})
        rows.append(
            [c.name, fmt(v["fixed_ms"]), fmt(r.get("fixed_cpu"), "×"), fmt(v["per_event_us"]),
             fmt(r.get("per_event"), "×"), fmt(v["per_stream_50_ms"]), fmt(r.get("per_stream_50"), "×")]
        )  # fmt: skip
    head = [
        "contender",
        "fixed ms/request",
        "× yardstick",
        "µs/event",
        "× yardstick",
        "ms/stream @50",
        "× yardstick",
    ]
    title = (
        f"## CPU (server process tree, burst upstream, {y['workers']} workers; medians of {y['reps']} "
        "repetitions, ratios are medians of per-repetition ratios)"
    )
    return [title, "", *table(head, rows), *other_workers(s, y["workers"])]


def other_workers(s: Record, shown: int) -> list[str]:
    """One line per other worker count: gptgate's CPU ratios to the yardstick there."""
    notes = [""]
    for key, fits in s["cpu_by_workers"].items():
        if key == f"w{shown}":
            continue
        parts = [
            f"{name} fixed {fmt(r['fixed_cpu'], '×')}, per event {fmt(r['per_event'], '×')}"
            for name, r in fits["ratios"].items()
        ]
        notes.append(f"With {key[1:]} worker(s), × yardstick: " + "; ".join(parts) + ".")
    return notes if len(notes) > 1 else []


def throughput_table(burst: list[Record]) -> list[str]:
    cols = sorted({(r["deltas"], r["workers"]) for r in burst if r["workers"]})
    rows = []
    for c in (DIRECT, *BURST_RELAYS):
        row = [c.name]
        for d, w in cols:
            rec = find(burst, contender=c.name, deltas=d, workers=None if c is DIRECT else w)
            row.append(fmt(rec["streams_per_s"]) if rec else "–")
        rows.append(row)
    sim = [find(burst, contender=DIRECT.name, deltas=d) for d, _ in cols]
    rows.append(["(simulator CPU ms/stream)"] + [fmt(r["sim_cpu_ms_per_stream"]) if r else "–" for r in sim])
    conc = burst[0]["concurrency"] if burst else "?"
    reps = max((r["reps"] for r in burst), default=0)
    head = ["contender", *(f"{d} deltas, {w}w" for d, w in cols)]
    title = f"## Burst streams/s (concurrency {conc}, median of {reps}; direct has no server)"
    return [title, "", *table(head, rows)]


def ttft_table(lat: Record, meta: Record) -> list[str]:
    levels = sorted({int(k[1:]) for v in lat.values() for k in v})
    rows = []
    for c in (DIRECT, *RELAYS):
        row = [c.name]
        for level in levels:
            v = lat.get(c.name, {}).get(f"c{level}", {})
            row += [f"{fmt(v.get('p50_ms'))} / {fmt(v.get('p95_ms'))}",
                    f"{fmt(v.get('added_p50_ms'))} / {fmt(v.get('added_p95_ms'))}"]  # fmt: skip
        rows.append(row)
    head = ["contender"]
    for level in levels:
        head += [f"c={level} p50 / p95 ms", f"c={level} added ms"]
    title = f"## Time to first content token ({meta['ttft_upstream']})"
    return [title, "", *table(head, rows)]


def idle_table(idle: list[Record], s: Record) -> list[str]:
    rows = [
        [r["contender"], f"{r['open']}/{r['streams']}", fmt(r["rss_before_mb"]), fmt(r["rss_after_mb"]),
         fmt(r["mb_per_1000"]), fmt(s["ratios"].get(r["contender"], {}).get("idle_mb"), "×")]
        for r in idle
    ]  # fmt: skip
    head = ["contender", "open", "RSS before MB", "RSS after MB", "MB per 1,000 streams", "× yardstick"]
    return ["## Memory of open idle streams (server process tree RSS)", "", *table(head, rows)]


def pool_table(s: Record) -> list[str]:
    """The 50-account pool contenders against the same kind of request on one account."""
    pool, cpu = s["pool"], s["cpu"]
    rows = []
    for name, r in pool["ratios"].items():
        mine, theirs = cpu.get(name, {}), cpu.get(r["vs"], {})
        rows.append(
            [name, r["vs"], f"{fmt(mine.get('fixed_ms'))} / {fmt(theirs.get('fixed_ms'))}", fmt(r["fixed_cpu"], "×"),
             f"{fmt(mine.get('per_event_us'))} / {fmt(theirs.get('per_event_us'))}", fmt(r["per_event"], "×"),
             f"{fmt(mine.get('per_stream_50_ms'))} / {fmt(theirs.get('per_stream_50_ms'))}",
             fmt(r["per_stream_50"], "×")]
        )  # fmt: skip
    head = [
        "contender",
        "vs (1 stored account)",
        "fixed ms/request",
        "ratio",
        "µs/event",
        "ratio",
        "ms/stream @50",
        "ratio",
    ]
    title = (
        f"## 50-account pool vs one account (burst, {pool['workers']} workers; pool / one account; "
        f"limit {POOL_LIMIT}×)"
    )
    out = [title, "", *table(head, rows), ""]
    c = pool["check"]
    if c:
        out.append(
            f"Accounts: the simulator served the pool contenders' {c['turns_total']} turns from {c['seen']} of "
            f"the {c['accounts']} stored accounts ({c['turns_min']}–{c['turns_max']} turns each), "
            "by `chatgpt-account-id`."
        )
    for key, fits in s["cpu_by_workers"].items():
        if key != f"w{pool['workers']}":
            parts = [
                f"{name} fixed {fmt(r['fixed_cpu'], '×')}, per event {fmt(r['per_event'], '×')}, "
                f"@50 {fmt(r['per_stream_50'], '×')}"
                for name, r in fits.get("pool_ratios", {}).items()
            ]
            out.append(f"With {key[1:]} worker(s), ÷ one account: " + "; ".join(parts) + ".")
    return out


def ops_table(s: Record) -> list[str]:
    """The operator's side (key limits, usage accounting, metrics) on against off."""
    ops, cpu = s["ops"], s["cpu"]
    rows = []
    for name, r in (*ops["ratios"].items(), *ops["metrics_alone"].items()):
        mine, theirs = cpu.get(name, {}), cpu.get(r["vs"], {})
        row = [name, r["vs"]]
        for figure, key in OPS_FIGURES:
            spread = r[f"{figure}_spread"]
            row += [f"{fmt(mine.get(key))} / {fmt(theirs.get(key))}",
                    fmt(r[figure], "×") + ("" if spread is None else f" (±{fmt(spread / 2)})")]  # fmt: skip
        rows.append(row)
    head = ["contender", "vs", "fixed ms/request", "ratio", "µs/event", "ratio", "ms/stream @50", "ratio"]
    title = (
        f"## Operator side: limits + usage + metrics on vs off (burst, {ops['workers']} workers; on / off; "
        f"limits {OPS_FIXED_LIMIT}× fixed, {OPS_EVENT_LIMIT}× per event)"
    )
    out = [title, "", *table(head, rows), ""]
    out.append(
        "Ratios are medians of per-repetition ratios; ± is half their spread (max − min) over the "
        "repetitions, the noise between them. gptgate-chat differs from bare only by metrics (on by default)."
    )
    for name, r in ops["ratios"].items():
        parts = [f"{figure} {', '.join(fmt(v) for v in r[f'{figure}_reps'])}" for figure, _ in OPS_FIGURES]
        out += ["", f"Per repetition, {name} ÷ {r['vs']}: " + "; ".join(parts) + "."]
    c = ops["check"]
    if c:
        out += [
            "",
            f"Recorded: the ops server wrote {c['usage_rows']} usage rows ({c['keyed_rows']} with the client key; "
            f"{c['usage_rows_running']} while still running) for {c['requests_sent']} requests sent "
            f"(warm-up included; one batch is {c['batch_size']} rows): "
            f"{'yes' if c['recorded'] else '**no**'}. Its /metrics counted {fmt(c['metrics_requests'])} "
            f"requests; the bare server's {fmt(c['bare_metrics_requests'])}.",
        ]
    return out


def encoder_table(res: Record) -> list[str]:
    """Each encoder's CPU per event and per stream, per kind of stream, and its ratio to chat."""
    if not res:
        return []
    plan = res["plan"]
    rows = []
    for variant, row in res["summary"].items():
        base = row.get("chat", {}).get("fixed_us")
        for name, v in row.items():
            extra = None if base is None or v["fixed_us"] is None else round(v["fixed_us"] - base, 1)
            rows.append(
                [variant, name, fmt(v["per_event_us"]), fmt(v["per_event_ratio"], "×"), fmt(v["fixed_us"]),
                 "–" if name == "chat" else fmt(extra), "yes" if v["valid"] else "**no**"]
            )  # fmt: skip
    head = ["stream", "encoder", "µs/event", "× chat", "fixed µs/stream", "fixed − chat µs", "output checked"]
    title = (
        f"## Stream encoders (in-process; slope between {plan['deltas'][0]} and {plan['deltas'][1]} deltas, "
        f"{plan['read_bytes']}-byte reads, medians of {plan['reps']} repetitions; limit {ENCODER_LIMIT}× chat)"
    )
    out = [title, "", *table(head, rows)]
    for name, why in res.get("absent", {}).items():
        out += ["", f"Absent: {name} ({why})."]
    for key, problem in res.get("problems", {}).items():
        out += ["", f"Check failed: {key}: {problem}."]
    return out


def web_table(s: Record) -> list[str]:
    """gptgate chat on the ChatGPT web upstream (delta-v1 stream) against chat on Codex, and the
    two upstream decoders in-process."""
    web, cpu = s.get("web") or {}, s["cpu"]
    if not web.get("ratios"):
        return []
    rows = pair_rows(web["ratios"], cpu)
    head = ["contender", "vs", "fixed ms/request", "ratio", "µs/event", "ratio", "ms/stream @50", "ratio"]
    title = (
        f"## Web upstream: chat on the ChatGPT web backend (delta-v1) vs chat on Codex (burst, "
        f"{web['workers']} workers; web / Codex; limit {WEB_LIMIT}× per event)"
    )
    out = [title, "", *table(head, rows)]
    dec = web.get("decoders") or {}
    if dec.get("us_per_event"):
        lengths = dec["lengths"]
        rows = [[name, *(fmt(row[str(n)]) for n in lengths)] for name, row in dec["us_per_event"].items()]
        rows.append(["web ÷ codex", *(fmt(dec["web_over_codex"][str(n)], "×") for n in lengths)])
        out += [
            "",
            f"Upstream decoders in-process (`bench/decoders.py`; {dec['read_bytes']}-byte reads, whole "
            "stream's CPU ÷ its deltas):",
            "",
            *table(["decoder", *(f"µs/event @{n}" for n in lengths)], rows),
        ]
    return out


def pair_rows(pairs: Record, cpu: Record) -> list[list[str]]:
    """One row per compared pair: each figure as ``mine / theirs`` and the ratio ± half spread."""
    rows = []
    for name, r in pairs.items():
        mine, theirs = cpu.get(name, {}), cpu.get(r["vs"], {})
        row = [name, r["vs"]]
        for figure, key in OPS_FIGURES:
            spread = r[f"{figure}_spread"]
            row += [f"{fmt(mine.get(key))} / {fmt(theirs.get(key))}",
                    fmt(r[figure], "×") + ("" if spread is None else f" (±{fmt(spread / 2)})")]  # fmt: skip
        rows.append(row)
    return rows


def ws_table(s: Record) -> list[str]:
    """Responses turns over one kept WebSocket per client worker against the same turns as HTTP
    streams, on the same server: CPU per turn (the 50-delta column) and its fit."""
    ws, cpu = s.get("websocket") or {}, s["cpu"]
    if not ws.get("ratios"):
        return []
    head = ["contender", "vs", "fixed ms/turn", "ratio", "µs/event", "ratio", "ms/turn @50", "ratio"]
    title = (
        f"## Responses over WebSocket vs HTTP streams (burst, {ws['workers']} workers; WS / HTTP; "
        f"limit {WS_LIMIT}× per turn)"
    )
    out = [title, "", *table(head, pair_rows(ws["ratios"], cpu)), ""]
    out.append(
        "One client WebSocket per load-client worker, opened before the warm-up, carries that "
        "worker's turns one after the other (a `response.create` frame, one frame per event back). "
        "Ratios are medians of per-repetition ratios; ± is half their spread."
    )
    for name, r in ws["ratios"].items():
        parts = [f"{figure} {', '.join(fmt(v) for v in r[f'{figure}_reps'])}" for figure, _ in OPS_FIGURES]
        out += ["", f"Per repetition, {name} ÷ {r['vs']}: " + "; ".join(parts) + "."]
    return out
