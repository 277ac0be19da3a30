"""CPU per event of the client stream encoders: chat, Anthropic Messages and Gemini, in-process.

One upstream Codex SSE reply is built with the simulator's own reply builder (the bytes the
benchmark's upstream sends), cut into reads of ``READ_BYTES`` and decoded by the Codex stream
decoder, as the relay gets them: each read's events are one ``feed`` call. What is timed
(``time.process_time``) is only the encoder: its construction, every ``feed`` and ``finish``,
for a number of such streams in a row. Decoding (the payloads' parse included) is done before the
timed window.

Per-event cost is the slope between a short and a long stream, which differ only by their
number of deltas (``cpu = fixed + per_event × deltas``), so the per-stream fixed cost cancels;
the fixed cost, everything of a stream but its deltas (constructor, preamble, item and part
events, usage, end), is reported too. Two streams: ``text`` (the preamble, a message of N text deltas,
completed) and ``mixed`` (a reasoning item with a summary of N/4 deltas and encrypted content, a
message of N/2 text deltas, a function call of N/4 argument deltas). Each repetition times every
encoder (order rotated) at both lengths; the figures are medians over the repetitions and the
ratios are medians of the per-repetition ratios to the chat encoder.

Every encoder's output is checked once per stream kind: the text it carries, joined, must be
the reply's text, and it must end the way its protocol ends a stream.

The encoders live in one table (``ENCODERS``); one whose module is not there yet is reported
as absent, not failed.
"""

from __future__ import annotations

import gc
import importlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import cycle, islice
from typing import Any

import orjson

READ_BYTES = 4096  # one upstream read: a 400-delta burst reply comes in ~25 reads of ~16 events
VARIANTS = ("text", "mixed")
MODEL = "gpt-5.5"
CREATED = 1_700_000_000
WORDS = (
    "Sure", "—", "here", "is", "the", "plan:", "first,", "read", "the", "file", "`src/app.py`",
    "and", "find", "where", "the", "handler", "is", 'called "on_request";', "then", "add", "a",
    "check", "for", "the", "empty", "body,", "return", "400,", "and", "write", "a", "test.\n\n1.",
    "Open", "the", "file.", "2.", "Edit", "it", "(carefully).", "Déjà", "vu:", "ça", "marche",
)  # fmt: skip
Record = dict[str, Any]


# -- the upstream stream -------------------------------------------------------------------------
def pieces(count: int, offset: int = 0) -> list[str]:
    """``count`` token-sized text deltas (a space and a word; some quotes, newlines, non-ASCII)."""
    return [" " + w for w in islice(cycle(WORDS), offset, offset + count)]


def upstream_sse(variant: str, deltas: int) -> tuple[bytes, str]:
    """The Codex SSE reply (what the simulator would send) and the text its message carries."""
    from gptgate.simulator.replies import ReplyBuilder, ReplyContext, TurnIds, split_text
    from gptgate.simulator.turn import Turn

    body: Record = {"model": MODEL, "instructions": "", "input": [], "tool_choice": "auto"}
    if variant == "mixed":
        body["reasoning"] = {"effort": "medium", "summary": "auto"}
        body["include"] = ["reasoning.encrypted_content"]
    turn = Turn(body, MODEL, 1200, user_text="hi")
    ctx = ReplyContext(turn, TurnIds("bench", 1), created_at=CREATED, text_deltas=deltas)
    b = ReplyBuilder(ctx)
    b.created()
    if variant == "text":
        text = pieces(deltas)
        b.message_item(text)
    else:
        summary, args = deltas // 4, deltas - deltas // 4 - deltas // 2
        text = pieces(deltas // 2, 7)
        _reasoning(b, pieces(summary, 3))
        b.message_item(text)
        arguments = orjson.dumps({"cmd": "grep -rn" + "".join(pieces(args * 2, 11)), "timeout_ms": 10000})
        _function_call(b, split_text(arguments.decode(), args, pad=False))
    b.completed()
    return b"".join(b.records), "".join(text)


def _reasoning(b: Any, summary: list[str]) -> None:
    """A reasoning item whose summary comes in ``summary`` deltas, with encrypted content."""
    index = len(b.output)
    item_id = b.ctx.ids.item("rs", index)
    b.emit("response.output_item.added", {"output_index": index, "item": {"id": item_id, "type": "reasoning", "summary": []}})  # fmt: skip
    where = {"item_id": item_id, "output_index": index, "summary_index": 0}
    b.emit("response.reasoning_summary_part.added", {**where, "part": {"type": "summary_text", "text": ""}})
    for delta in summary:
        b.emit("response.reasoning_summary_text.delta", {**where, "delta": delta})
    text = "".join(summary)
    b.emit("response.reasoning_summary_text.done", {**where, "text": text})
    b.emit("response.reasoning_summary_part.done", {**where, "part": {"type": "summary_text", "text": text}})
    item = {
        "id": item_id,
        "type": "reasoning",
        "encrypted_content": "gAAAAAB" + "x" * 600,
        "summary": [{"type": "summary_text", "text": text}],
    }
    b.emit("response.output_item.done", {"output_index": index, "item": item})
    b.output.append(item)


def _function_call(b: Any, args: list[str]) -> None:
    index = len(b.output)
    item_id, call_id, arguments = b.ctx.ids.item("fc", index), b.ctx.ids.call(index), "".join(args)
    item = {"id": item_id, "type": "function_call", "status": "in_progress", "arguments": "",
            "call_id": call_id, "name": "exec_command"}  # fmt: skip
    b.emit("response.output_item.added", {"output_index": index, "item": item})
    where = {"item_id": item_id, "output_index": index}
    for piece in args:
        b.emit("response.function_call_arguments.delta", {**where, "delta": piece})
    b.emit("response.function_call_arguments.done", {**where, "arguments": arguments})
    b.emit("response.output_item.done", {"output_index": index, "item": {**item, "status": "completed", "arguments": arguments}})  # fmt: skip
    b.output.append({**item, "status": "completed", "arguments": arguments})


def batches_of(sse: bytes) -> list[list[Any]]:
    """The reply cut into reads of ``READ_BYTES``, each decoded into one batch of events."""
    from gptgate.upstreams.codex.decode import CodexStreamDecoder

    decoder = CodexStreamDecoder()
    out = [batch for i in range(0, len(sse), READ_BYTES) if (batch := decoder.feed(sse[i : i + READ_BYTES]))]
    if tail := decoder.flush():
        out.append(tail)
    for batch in out:  # payloads are parsed when first read (lazy events): parse them all here,
        for event in batch:  # so every encoder is timed on the same parsed events, parse excluded
            event.data  # noqa: B018
    return out


# -- the encoders --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Encoder:
    """One encoder under test: how to make one for a stream, and how to read its output back."""

    name: str
    module: str
    make: Callable[[Any, str], Any]  # (module, variant) -> a fresh encoder for one stream
    text_of: Callable[[bytes], str]  # the message text the encoded stream carries
    ends: Callable[[bytes], bool]  # whether the encoded stream ends the way its protocol ends one


def _sse_data(out: bytes) -> Iterator[Any]:
    for record in out.replace(b"\r\n", b"\n").split(b"\n\n"):
        for line in record.split(b"\n"):
            if line.startswith(b"data:") and line[5:].strip() != b"[DONE]":
                yield orjson.loads(line[5:])


def _chat_text(out: bytes) -> str:
    return "".join(
        c["delta"].get("content") or ""
        for d in _sse_data(out)
        for c in d.get("choices") or ()
        if "delta" in c
    )


def _anthropic_text(out: bytes) -> str:
    return "".join(
        d["delta"]["text"]
        for d in _sse_data(out)
        if d.get("type") == "content_block_delta" and d["delta"].get("type") == "text_delta"
    )


def _gemini_text(chunks: Iterator[Any]) -> str:
    return "".join(
        part.get("text") or ""
        for chunk in chunks
        for cand in chunk.get("candidates") or ()
        for part in (cand.get("content") or {}).get("parts") or ()
        if not part.get("thought")
    )


def _gemini_sse_text(out: bytes) -> str:
    return _gemini_text(_sse_data(out))


def _gemini_json_text(out: bytes) -> str:
    return _gemini_text(iter(orjson.loads(out)))


def _last_sse(out: bytes) -> Any:
    return list(_sse_data(out))[-1]


def _chat(mod: Any, variant: str) -> Any:
    return mod.ChatStreamEncoder(
        chunk_id="chatcmpl-bench",
        created=CREATED,
        model=MODEL,
        include_usage=True,
        reasoning="reasoning_content",
    )


def _anthropic(mod: Any, variant: str) -> Any:
    from gptgate.canonical.names import NameMap

    return mod.AnthropicStreamEncoder(
        message_id="msg_bench", model="claude-sonnet-4-5", names=NameMap(), thinking="shown"
    )


def _gemini(sse: bool) -> Callable[[Any, str], Any]:
    def make(mod: Any, variant: str) -> Any:
        from gptgate.canonical.names import NameMap

        return mod.GeminiStreamEncoder(
            response_id="bench", model="gemini-2.5-pro", include_thoughts=True, names=NameMap(), sse=sse
        )

    return make


ENCODERS: tuple[Encoder, ...] = (
    Encoder("chat", "gptgate.protocols.chat.encode", _chat, _chat_text,
            lambda out: out.rstrip().endswith(b"data: [DONE]")),
    Encoder("anthropic", "gptgate.protocols.anthropic.encode", _anthropic, _anthropic_text,
            lambda out: out.rstrip().endswith(b'data: {"type":"message_stop"}')),
    # streamGenerateContent?alt=sse: one SSE record per chunk
    Encoder("gemini", "gptgate.protocols.gemini.encode", _gemini(True), _gemini_sse_text,
            lambda out: "finishReason" in _last_sse(out)["candidates"][0]),
    # streamGenerateContent without alt=sse: one JSON array, streamed element by element
    Encoder("gemini-json", "gptgate.protocols.gemini.encode", _gemini(False), _gemini_json_text,
            lambda out: "finishReason" in orjson.loads(out)[-1]["candidates"][0]),
)  # fmt: skip
BASE = "chat"
RAISED = "raised "  # a check that raised: that encoder and stream kind are not timed


def available() -> tuple[list[tuple[Encoder, Any]], dict[str, str]]:
    """The encoders whose module imports, and why each other one is absent."""
    found, absent = [], {}
    for enc in ENCODERS:
        try:
            found.append((enc, importlib.import_module(enc.module)))
        except ImportError as exc:
            absent[enc.name] = f"{enc.module}: {exc}"
    return found, absent


# -- measuring -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EncoderPlan:
    short: int  # text deltas of the short stream
    long: int  # of the long stream
    short_streams: int  # streams timed in a row per measurement
    long_streams: int
    reps: int


def encode_stream(enc: Encoder, mod: Any, variant: str, batches: list[list[Any]]) -> bytes:
    encoder = enc.make(mod, variant)
    out = [encoder.feed(batch) for batch in batches]
    out.append(encoder.finish())
    return b"".join(out)


def check(enc: Encoder, mod: Any, variant: str, sse: bytes, text: str) -> str | None:
    """None if the encoded stream carries ``text`` and ends right, else what is wrong."""
    try:
        out = encode_stream(enc, mod, variant, batches_of(sse))
        got = enc.text_of(out)
    except Exception as exc:  # reported, not raised: one broken encoder must not sink the run
        return f"{RAISED}{type(exc).__name__}: {exc}"
    if got != text:
        return f"text differs: {len(got)} characters instead of {len(text)}"
    try:
        ended = enc.ends(out)
    except Exception:  # a malformed end is a failed check
        ended = False
    if not ended:
        return f"does not end as its protocol does: {out.rstrip()[-80:]!r}"
    return None


def time_streams(enc: Encoder, mod: Any, variant: str, sse: bytes, streams: int) -> float:
    """CPU seconds per stream to encode ``streams`` streams in a row (decoded beforehand)."""
    todo = [batches_of(sse) for _ in range(streams)]  # encoders may keep references to the events
    make, feed_all = enc.make, _feed_all
    gc.collect()
    gc.freeze()  # the decoded events are not the encoder's garbage: keep them out of collections
    try:
        start = time.process_time()
        for batches in todo:
            feed_all(make(mod, variant), batches)
        cpu = time.process_time() - start
    finally:
        gc.unfreeze()
    return cpu / streams


def _feed_all(encoder: Any, batches: list[list[Any]]) -> None:
    for batch in batches:
        encoder.feed(batch)
    encoder.finish()


def events_in(sse: bytes) -> int:
    return sum(len(b) for b in batches_of(sse))


def encoder_phase(plan: EncoderPlan, log: Callable[[str], None]) -> Record:
    """Every encoder, every variant, short and long streams, ``plan.reps`` repetitions."""
    found, absent = available()
    streams = {v: {d: upstream_sse(v, d) for d in (plan.short, plan.long)} for v in VARIANTS}
    events = {v: {d: events_in(sse) for d, (sse, _) in by.items()} for v, by in streams.items()}
    problems = {
        f"{enc.name}/{v}": problem
        for enc, mod in found
        for v in VARIANTS
        if (problem := check(enc, mod, v, *streams[v][plan.long])) is not None
    }
    for key, problem in problems.items():
        log(f"encoders: {key} failed its check: {problem}")
    runs: list[Record] = []
    for rep in range(plan.reps):
        order = found[rep % len(found) :] + found[: rep % len(found)] if found else []
        for variant in VARIANTS:
            for enc, mod in order:
                if problems.get(f"{enc.name}/{variant}", "").startswith(RAISED):
                    continue
                for deltas, count in ((plan.short, plan.short_streams), (plan.long, plan.long_streams)):
                    cpu = time_streams(enc, mod, variant, streams[variant][deltas][0], count)
                    runs.append(
                        {"encoder": enc.name, "variant": variant, "rep": rep, "deltas": deltas,
                         "events": events[variant][deltas], "streams": count,
                         "cpu_us_per_stream": round(cpu * 1e6, 3)}
                    )  # fmt: skip
    out: Record = {
        "plan": {
            "deltas": [plan.short, plan.long],
            "streams": [plan.short_streams, plan.long_streams],
            "reps": plan.reps,
            "read_bytes": READ_BYTES,
            "base": BASE,
        },
        "events": {v: {str(d): n for d, n in by.items()} for v, by in events.items()},
        "encoders": [enc.name for enc, _ in found],
        "absent": absent,
        "problems": problems,
        "runs": runs,
    }
    out["summary"] = summarize_encoders(out)
    for variant, row in out["summary"].items():
        log(
            f"encoders {variant:<5} "
            + "  ".join(
                f"{name} {v['per_event_us']} µs/event ({v['per_event_ratio']}×) + {v['fixed_us']} µs"
                for name, v in row.items()
            )
        )
    return out


def summarize_encoders(res: Record) -> Record:
    """Per variant and encoder: medians of per-repetition fits, and ratios to the chat encoder."""
    fits: dict[tuple[str, str, int], tuple[float, float]] = {}
    for (name, variant, rep), cells in _cells(res["runs"]).items():
        lo, hi = cells[min(cells)], cells[max(cells)]
        if lo is hi:
            continue
        per_event = (hi["cpu_us_per_stream"] - lo["cpu_us_per_stream"]) / (hi["events"] - lo["events"])
        # the two lengths differ only by deltas: fixed = the stream without its deltas
        fits[name, variant, rep] = (per_event, lo["cpu_us_per_stream"] - per_event * lo["deltas"])
    out: Record = {}
    for variant in VARIANTS:
        row: Record = {}
        for name in res["encoders"]:
            mine = {rep: f for (n, v, rep), f in fits.items() if n == name and v == variant}
            base = {rep: f for (n, v, rep), f in fits.items() if n == BASE and v == variant}
            row[name] = {
                "per_event_us": _med([f[0] for f in mine.values()], 3),
                "fixed_us": _med([f[1] for f in mine.values()], 1),
                "per_event_ratio": _med(
                    [f[0] / base[r][0] for r, f in mine.items() if base.get(r, (0,))[0] > 0], 2
                ),
                "fixed_ratio": _med(
                    [f[1] / base[r][1] for r, f in mine.items() if base.get(r, (0, 0))[1] > 0], 2
                ),
                "per_event_us_reps": [round(f[0], 3) for f in mine.values()],
                "valid": f"{name}/{variant}" not in res["problems"],
            }
        out[variant] = row
    return out


def _cells(runs: list[Record]) -> dict[tuple[str, str, int], dict[int, Record]]:
    cells: dict[tuple[str, str, int], dict[int, Record]] = {}
    for run in runs:
        cells.setdefault((run["encoder"], run["variant"], run["rep"]), {})[run["deltas"]] = run
    return cells


def _med(values: list[float], digits: int) -> float | None:
    return round(statistics.median(values), digits) if values else None
