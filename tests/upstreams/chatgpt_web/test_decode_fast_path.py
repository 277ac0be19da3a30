"""The decoder's hot path: a text ``append`` is sent in O(delta), never by re-rendering the message.

Streams are written record by record as the web backend sends them; the events are asserted
literally, and against the same decoder with the fast path switched off (every record rendered).
"""

from __future__ import annotations

import uuid
from typing import Any
from unittest import mock

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.upstreams.chatgpt_web import render
from gptgate.upstreams.chatgpt_web.decode import WebStreamDecoder
from gptgate.upstreams.chatgpt_web.output import OutputBuilder

PARTS0 = "/message/content/parts/0"
CID = "6a1f2b3c-4d5e-8321-9f00-112233445566"


def sse(*records: Any) -> bytes:
    return b"".join(b"data: " + orjson.dumps(r) + b"\n\n" for r in records)


def root(message_id: str, text: str = "", **fields: Any) -> dict[str, Any]:
    message = {
        "id": message_id,
        "author": {"role": "assistant"},
        "content": {"content_type": "text", "parts": [text]},
        "status": "in_progress",
        "recipient": "all",
        "channel": "final",
        "metadata": {"model_slug": "gpt-4o"},
    }
    message.update(fields)
    return {"p": "", "o": "add", "v": {"message": message, "conversation_id": CID, "error": None}}


FINISH = {
    "p": "",
    "o": "patch",
    "v": [
        {"p": "/message/status", "o": "replace", "v": "finished_successfully"},
        {"p": "/message/end_turn", "o": "replace", "v": True},
    ],
}


def decode(data: bytes, step: int = 4096, fast: bool = True) -> list[Event]:
    if not fast:  # never armed: every record goes through patch.apply and a whole rendering
        with mock.patch.object(WebStreamDecoder, "_arm", lambda self, message: None):
            return decode(data, step)
    decoder = WebStreamDecoder("gpt-4o", response_id="resp_test", created_at=1700000000)
    events: list[Event] = []
    for i in range(0, len(data), step):
        events += decoder.feed(data[i : i + step])
    return events + decoder.flush()


def deltas(events: list[Event]) -> list[str]:
    return [e.data["delta"] for e in events if e.type == ev.TEXT_DELTA]


def final_text(events: list[Event]) -> str:
    done = [e for e in events if e.type == ev.TEXT_DONE]
    assert len(done) == 1
    return str(done[0].data["text"])


def test_long_answer_is_never_rendered_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    original = render.visible_text

    def counting(message: Any, link: Any = None) -> str | None:
        nonlocal calls
        calls += 1
        return original(message) if link is None else original(message, link)

    monkeypatch.setattr(render, "visible_text", counting)
    pieces = [f" w{n}" for n in range(2000)]
    records = [root("m1"), {"p": PARTS0, "o": "append", "v": pieces[0]}, *({"v": p} for p in pieces[1:])]
    events = decode(sse(*records, FINISH, {"type": "message_stream_complete", "conversation_id": CID}))
    assert deltas(events) == pieces
    assert final_text(events) == "".join(pieces)
    assert events[-1].type == ev.COMPLETED
    assert events[-1].data["response"]["output"][0]["content"][0]["text"] == "".join(pieces)
    # the root, the first append (the message's first text), the closing patch: not one per delta
    assert calls == 3


def test_delta_event_shape() -> None:
    events = decode(sse(root("m1"), {"p": PARTS0, "o": "append", "v": "Hi"}, {"v": " there"}, FINISH))
    text = [e.data for e in events if e.type == ev.TEXT_DELTA]
    assert text[1] == {
        "type": "response.output_text.delta",
        "item_id": text[0]["item_id"],
        "output_index": 0,
        "content_index": 0,
        "delta": " there",
        "logprobs": [],
    }


def test_truncate_and_replace_between_appends() -> None:
    records = [
        root("m1"),
        {"p": PARTS0, "o": "append", "v": "Hello"},
        {"v": " world"},
        {"v": "!"},
        {"p": PARTS0, "o": "truncate", "v": 5},  # shorter than sent: nothing more until it grows past
        {"p": PARTS0, "o": "append", "v": " there, friend"},
        {"v": "?"},
        {"p": PARTS0, "o": "replace", "v": "Hello there, friend?!"},
        {"p": PARTS0, "o": "append", "v": " Bye."},
        FINISH,
    ]
    events = decode(sse(*records))
    assert deltas(events) == ["Hello", " world", "!", " friend", "?", "!", " Bye."]
    assert final_text(events) == "Hello world! friend?! Bye."


def test_second_message_is_separated_by_what_the_first_ended_with() -> None:
    records = [
        root("m1"),
        {"p": PARTS0, "o": "append", "v": "One"},
        {"v": "\n"},
        root("m2", "Two"),
        {"p": PARTS0, "o": "append", "v": "\n"},
        {"v": "\n"},
        root("m3"),
        {"p": PARTS0, "o": "append", "v": "Three"},
        FINISH,
    ]
    assert deltas(decode(sse(*records))) == ["One", "\n", "\nTwo", "\n", "\n", "Three"]


def test_appends_to_another_path_or_a_tool_call_are_rendered() -> None:
    code = root("m1", recipient="python")
    code["v"]["message"]["content"] = {"content_type": "code", "language": "python", "text": ""}
    records = [
        code,
        {"p": "/message/content/text", "o": "append", "v": "print(1)"},
        {"v": "\n"},
        {"p": "/message/status", "o": "replace", "v": "finished_successfully"},
        root("m2"),
        {"p": PARTS0, "o": "append", "v": "Done"},
        FINISH,
    ]
    assert deltas(decode(sse(*records))) == ["```python\n", "print(1)", "\n", "\n```", "\n\nDone"]


def test_tail_reads_across_deltas() -> None:
    out = OutputBuilder("x")
    events: list[Event] = []
    assert out.tail() == ""
    for delta in ("ab", "\n", "", "\n"):
        out.text_delta(delta, events)
    assert (out.tail(), out.tail(3), out.tail(9), out.text) == ("\n\n", "b\n\n", "ab\n\n", "ab\n\n")


_append = st.builds(lambda v: {"v": v}, st.text(max_size=4))
_explicit = st.builds(lambda v: {"p": PARTS0, "o": "append", "v": v}, st.text(max_size=4))
_truncate = st.builds(lambda n: {"p": PARTS0, "o": "truncate", "v": n}, st.integers(0, 12))
_replace = st.builds(lambda v: {"p": PARTS0, "o": "replace", "v": v}, st.text(max_size=12))
_meta = st.just({"p": "/message/metadata/k", "o": "replace", "v": 1})
_new = st.builds(lambda n, t: root(f"m{n}", t), st.integers(0, 3), st.text(max_size=3))
_two_parts = st.just({"p": "/message/content/parts", "o": "append", "v": ["x"]})
_record = st.one_of(_append, _append, _explicit, _truncate, _replace, _meta, _new, _two_parts)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(_record, max_size=30), st.sampled_from([7, 64, 4096]))
def test_same_events_as_rendering_every_record(records: list[dict[str, Any]], step: int) -> None:
    data = sse(root("m0"), *records, FINISH)
    with mock.patch("uuid.uuid4", return_value=uuid.UUID(int=1)):  # the same item ids in both
        fast, slow = decode(data, step), decode(data, step, fast=False)
    assert [e.data for e in fast] == [e.data for e in slow]
