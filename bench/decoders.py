"""CPU per event of the two upstream stream decoders, in-process: Codex and the ChatGPT web one.

Each upstream reply is built with the simulator's own builders (the bytes the benchmark's
upstream sends): a Codex Responses stream of N text deltas (``replies.ReplyBuilder``) and a web
stream in delta encoding v1 of N text deltas (``web_stream.v1_body``: a root ``add``, one
``append`` to ``/message/content/parts/0``, then ``{"v": …}`` records with the sticky path, a
closing ``patch``), both carrying the same text. Each is cut into reads of ``READ_BYTES`` and fed
to a fresh decoder, as the relay feeds it, then flushed; ``time.process_time`` times the
construction, every ``feed`` and the ``flush``, for a number of streams in a row.

The figure per length is the whole stream's CPU divided by its number of deltas (µs/event):
flat in N when a delta costs O(delta), growing with N when each record re-renders the whole
message. ``python bench/decoders.py`` prints the table; ``--json`` the numbers.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from encoders import READ_BYTES, pieces

LENGTHS = (50, 400, 2000)
MODEL = "gpt-5.5"
WEB_MODEL = "gpt-4o"
CREATED = 1_700_000_000


def codex_sse(text: list[str]) -> bytes:
    """The Codex reply carrying ``text`` as its message's deltas."""
    from gptgate.simulator.replies import ReplyBuilder, ReplyContext, TurnIds
    from gptgate.simulator.turn import Turn

    body: dict[str, Any] = {"model": MODEL, "instructions": "", "input": [], "tool_choice": "auto"}
    turn = Turn(body, MODEL, 1200, user_text="hi")
    b = ReplyBuilder(ReplyContext(turn, TurnIds("bench", 1), created_at=CREATED, text_deltas=len(text)))
    b.created()
    b.message_item(text)
    b.completed()
    return b"".join(b.records)


def web_sse(text: list[str]) -> bytes:
    """The web v1 reply of ``len(text)`` text deltas carrying the same text."""
    from gptgate.simulator.web_stream import WebReply, v1_body

    reply = WebReply("conv-bench", "user-bench", WEB_MODEL, "".join(text), pieces=len(text))
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(4)]
    return b"".join(v1_body(reply, ids))


def _codex() -> Any:
    from gptgate.upstreams.codex.decode import CodexStreamDecoder

    return CodexStreamDecoder()


def _web() -> Any:
    from gptgate.upstreams.chatgpt_web.decode import WebStreamDecoder

    return WebStreamDecoder(WEB_MODEL, response_id="resp_bench", created_at=CREATED)


DECODERS: dict[str, tuple[Callable[[list[str]], bytes], Callable[[], Any]]] = {
    "codex": (codex_sse, _codex),
    "web": (web_sse, _web),
}


def decoded_text(events: list[Any]) -> str:
    return "".join(e.data["delta"] for e in events if e.type == "response.output_text.delta")


def run_once(make: Callable[[], Any], reads: list[bytes]) -> list[Any]:
    decoder = make()
    out: list[Any] = []
    for read in reads:
        out += decoder.feed(read)
    out += decoder.flush()
    return out


def time_streams(make: Callable[[], Any], reads: list[bytes], streams: int) -> float:
    """CPU seconds of ``streams`` streams decoded in a row."""
    gc.collect()
    start = time.process_time()
    for _ in range(streams):
        decoder = make()
        for read in reads:
            decoder.feed(read)
        decoder.flush()
    return time.process_time() - start


def measure(lengths: tuple[int, ...] = LENGTHS, repeats: int = 5, budget_s: float = 0.3) -> dict[str, Any]:
    """µs per delta per decoder and length (median of ``repeats``), checked against the text."""
    result: dict[str, Any] = {"read_bytes": READ_BYTES, "lengths": list(lengths), "us_per_event": {}}
    for name, (build, make) in DECODERS.items():
        row: dict[str, float] = {}
        for n in lengths:
            text = pieces(n)
            sse = build(text)
            reads = [sse[i : i + READ_BYTES] for i in range(0, len(sse), READ_BYTES)]
            got = decoded_text(run_once(make, reads))
            if got != "".join(text):
                raise AssertionError(f"{name} at {n} deltas decoded other text")
            one = max(time_streams(make, reads, 1), 1e-5)
            streams = max(1, int(budget_s / one))
            samples = [time_streams(make, reads, streams) / streams / n * 1e6 for _ in range(repeats)]
            row[str(n)] = round(statistics.median(samples), 3)
        result["us_per_event"][name] = row
    codex, web = result["us_per_event"]["codex"], result["us_per_event"]["web"]
    result["web_over_codex"] = {k: round(web[k] / codex[k], 2) for k in codex}
    return result


def table(result: dict[str, Any]) -> str:
    lengths = result["lengths"]
    lines = ["| decoder | " + " | ".join(f"µs/event @{n}" for n in lengths) + " |"]
    lines.append("|---|" + "---|" * len(lengths))
    for name, row in result["us_per_event"].items():
        lines.append(f"| {name} | " + " | ".join(f"{row[str(n)]:.3g}" for n in lengths) + " |")
    ratio = result["web_over_codex"]
    lines.append("| web ÷ codex | " + " | ".join(f"{ratio[str(n)]:.2f}×" for n in lengths) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    result = measure(repeats=args.repeats)
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() if args.json else table(result))


if __name__ == "__main__":
    main()
