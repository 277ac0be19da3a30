"""The benchmark's targets: each a limit on one figure of the summary, and the verdicts.

The figures against the yardstick are issue 12's ("the hot path at the floor"): a translating
door no dearer per event than the yardstick's translation, the pass-through a fraction of it,
nginx-class memory per idle stream and first-token latency under load within the yardstick's.
"""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]

#: per gptgate contender (chat, responses pass-through): ratio limits against the yardstick
FIXED_LIMIT = {"gptgate-chat": 1.2, "gptgate-responses": 1.2}  # fixed CPU per request
EVENT_LIMIT = {"gptgate-chat": 1.0, "gptgate-responses": 0.7}  # CPU per event
STREAM_LIMIT = {"gptgate-chat": 1.1, "gptgate-responses": 1.1}  # CPU per 50-event stream
IDLE_LIMIT = 1.15  # MB per 1,000 idle streams
TTFT_ABS_LIMITS = {1: 1.0}  # ms of added time to first token, absolute
#: ms of added time to first token beyond the yardstick's own added time, by concurrency
TTFT_OVER_YARDSTICK = {32: 1.0, 256: 20.0}
TTFT_CONCURRENCIES = (1, 32, 256)
POOL_LIMIT = 1.05  # 50-account pool ÷ one account, fixed CPU per request
POOL_EVENT_LIMIT = 1.10  # 50-account pool ÷ one account, CPU per event
#: the operator's side on ÷ off: fixed CPU per request (≤ 5 %) and CPU per event ("nothing")
OPS_FIXED_LIMIT, OPS_EVENT_LIMIT = 1.05, 1.02
ENCODER_LIMIT = 1.5  # Anthropic / Gemini encoder ÷ chat encoder, CPU per event
WEB_LIMIT = 1.5  # gptgate chat on the web upstream ÷ on Codex, CPU per event
WS_LIMIT = 1.0  # a Responses turn over the WebSocket ÷ the same turn as an HTTP stream, CPU per turn


def targets(
    ratios: Record,
    lat: Record,
    pool: Record | None = None,
    encoders: Record | None = None,
    ops: Record | None = None,
    web: Record | None = None,
    websocket: Record | None = None,
    yardstick: str = "yardstick",
) -> list[Record]:
    out: list[Record] = []

    def add(what: str, name: str, value: float | None, limit: float, unit: str) -> None:
        verdict = None if value is None else value <= limit
        out.append(
            {"target": what, "contender": name, "value": value, "limit": limit, "unit": unit, "pass": verdict}
        )

    def added(name: str, c: int) -> float | None:
        value = lat.get(name, {}).get(f"c{c}", {}).get("added_p50_ms")
        return None if value is None else float(value)

    for name in FIXED_LIMIT:
        r = ratios[name]
        add("fixed CPU per request", name, r["fixed_cpu"], FIXED_LIMIT[name], "× yardstick")
        add("CPU per event", name, r["per_event"], EVENT_LIMIT[name], "× yardstick")
        add("CPU per 50-event stream", name, r["per_stream_50"], STREAM_LIMIT[name], "× yardstick")
        add("MB per 1,000 idle streams", name, r["idle_mb"], IDLE_LIMIT, "× yardstick")
        for c, limit in TTFT_ABS_LIMITS.items():
            add(f"added TTFT p50 at c={c}", name, added(name, c), limit, "ms")
        for c, over in TTFT_OVER_YARDSTICK.items():
            mine, theirs = added(name, c), added(yardstick, c)
            limit = round((theirs or 0.0) + over, 2)
            add(
                f"added TTFT p50 at c={c}",
                name,
                None if theirs is None else mine,
                limit,
                f"ms (yardstick + {over:g})",
            )
    for name, r in (pool or {}).get("ratios", {}).items():
        add("pool50 fixed CPU per request", name, r["fixed_cpu"], POOL_LIMIT, f"× {r['vs']}")
        add("pool50 CPU per event", name, r["per_event"], POOL_EVENT_LIMIT, f"× {r['vs']}")
    for name, r in (ops or {}).get("ratios", {}).items():
        add("operator side fixed CPU per request", name, r["fixed_cpu"], OPS_FIXED_LIMIT, f"× {r['vs']}")
        add("operator side CPU per event", name, r["per_event"], OPS_EVENT_LIMIT, f"× {r['vs']}")
    for name, r in (web or {}).get("ratios", {}).items():
        add("web upstream CPU per event", name, r["per_event"], WEB_LIMIT, f"× {r['vs']}")
    for name, r in (websocket or {}).get("ratios", {}).items():
        add("WebSocket CPU per turn (50 deltas)", name, r["per_stream_50"], WS_LIMIT, f"× {r['vs']}")
    for variant, row in (encoders or {}).items():
        for name, v in row.items():
            if name != "chat":
                add(
                    f"encoder CPU per event ({variant} stream)",
                    name,
                    v["per_event_ratio"],
                    ENCODER_LIMIT,
                    "× chat",
                )
    return out
