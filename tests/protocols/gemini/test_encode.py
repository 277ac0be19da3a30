"""Gemini stream chunks: literal bytes, invariant §8.4 on every fixture, calls, signatures."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gptgate.canonical.events import Event
from gptgate.canonical.names import NameMap, short_name
from gptgate.protocols.gemini import signature
from gptgate.protocols.gemini.encode import GeminiStreamEncoder
from gptgate.upstreams.codex.decode import CodexStreamDecoder
from tests.support import fixture_path, sse_data

FIXTURES = [
    "text.constructed.sse",
    "reasoning-text.constructed.sse",
    "function-call.constructed.sse",
    "response-failed.real-payload.sse",
    "stream-cut-no-terminal.constructed.sse",
]
HEAD = b'data: {"candidates":[{"content":{"role":"model","parts":['
META = b'"modelVersion":"gemini-2.5-flash","responseId":"r1"}'
USAGE = {
    "input_tokens": 10,
    "input_tokens_details": {"cached_tokens": 4},
    "output_tokens": 7,
    "output_tokens_details": {"reasoning_tokens": 2},
}


def ev(t: str, **data: Any) -> Event:
    return Event(t, {"type": t, **data})


def encoder(sse: bool = True, thoughts: bool = False, names: NameMap | None = None) -> GeminiStreamEncoder:
    return GeminiStreamEncoder(
        response_id="r1",
        model="gemini-2.5-flash",
        include_thoughts=thoughts,
        names=names or NameMap(),
        sse=sse,
    )


def run(events: list[Event], **kw: Any) -> bytes:
    enc = encoder(**kw)
    return enc.feed(events) + enc.finish()


def chunks(body: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(d) for d in sse_data(body)]


def parts(body: bytes) -> list[dict[str, Any]]:
    return [p for c in chunks(body) if "candidates" in c for p in c["candidates"][0]["content"]["parts"]]


def completed(**response: Any) -> Event:
    return ev("response.completed", response={"status": "completed", "usage": USAGE, **response})


def call_done(index: int, call_id: str, name: str, args: str) -> Event:
    item = {"id": f"fc_{index}", "type": "function_call", "call_id": call_id, "name": name, "arguments": args}
    return ev("response.output_item.done", output_index=index, item=item)


def reasoning_done(index: int, encrypted: str, summary: str = "") -> Event:
    item = {
        "id": f"rs_{index}",
        "type": "reasoning",
        "encrypted_content": encrypted,
        "summary": [{"type": "summary_text", "text": summary}] if summary else [],
    }
    return ev("response.output_item.done", output_index=index, item=item)


# -- literal bytes
def test_text_stream_literal_sse_bytes() -> None:
    body = run(
        [
            ev("response.created", response={"id": "resp_1"}),
            ev("response.output_text.delta", item_id="m", delta="Hel"),
            ev("response.output_text.delta", item_id="m", delta='lo "x"'),
            completed(),
        ]
    )
    assert body == (
        HEAD + b'{"text":"Hel"}]},"index":0}],' + META + b"\r\n\r\n"
        b"" + HEAD + b'{"text":"lo \\"x\\""}]},"index":0}],' + META + b"\r\n\r\n"
        b"" + HEAD + b'{"text":""}]},"finishReason":"STOP","index":0}],"usageMetadata":'
        b'{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":17,'
        b'"cachedContentTokenCount":4,"thoughtsTokenCount":2},' + META + b"\r\n\r\n"
    )


def test_json_array_literal_bytes_across_batches() -> None:
    enc = encoder(sse=False)
    first = enc.feed([ev("response.output_text.delta", item_id="m", delta="Hi")])
    nothing = enc.feed([ev("response.in_progress", response={})])
    last = enc.feed([completed(usage=None)])
    assert nothing == b"" and enc.finish() == b""
    open_ = b'{"candidates":[{"content":{"role":"model","parts":['
    assert first == b"[" + open_ + b'{"text":"Hi"}]},"index":0}],' + META + b"\n"
    assert last == (
        b"," + open_ + b'{"text":""}]},"finishReason":"STOP","index":0}],"usageMetadata":'
        b'{"promptTokenCount":0,"candidatesTokenCount":0,"totalTokenCount":0,'
        b'"cachedContentTokenCount":0,"thoughtsTokenCount":0},' + META + b"\n]"
    )
    assert len(orjson.loads(first + last)) == 2


def test_keepalives_are_valid_in_both_framings() -> None:
    sse = encoder().keepalive
    assert sse.startswith(b"data: ") and sse.endswith(b"\r\n\r\n")
    assert chunks(sse)[0]["candidates"][0]["content"]["parts"] == [{"text": ""}]
    array = encoder(sse=False)
    body = array.keepalive + array.feed([ev("response.output_text.delta", item_id="m", delta="a")])
    body += array.keepalive + array.feed([completed()]) + array.keepalive
    assert array.keepalive == b"\n" and len(orjson.loads(body)) == 2


# -- invariant §8.4 on every fixture, at several chunkings
def _encode_fixture(raw: bytes, size: int, batch: int, sse: bool) -> list[bytes]:
    decoder, enc = CodexStreamDecoder(), encoder(sse=sse, thoughts=True)
    events: list[Event] = []
    for i in range(0, len(raw), size):
        events += decoder.feed(raw[i : i + size])
    events += decoder.flush()
    pieces = [enc.feed(events[i : i + batch]) for i in range(0, len(events), batch)]
    return [*pieces, enc.finish()]


@pytest.mark.parametrize("fixture", FIXTURES)
@pytest.mark.parametrize("sse", [True, False], ids=["sse", "array"])
def test_every_chunk_parses_alone_whatever_the_chunking(fixture: str, sse: bool) -> None:
    raw = fixture_path("codex", fixture).read_bytes()
    outputs = {
        b"".join(_encode_fixture(raw, size, batch, sse))
        for size in (1, 7, 64, len(raw))
        for batch in (1, 3, 100)
    }
    assert len(outputs) == 1, "the output must not depend on how the upstream bytes were chunked"
    body = outputs.pop()
    if sse:
        records = [r for r in body.split(b"\r\n\r\n") if r]
        assert all(r.startswith(b"data: ") and b"\n" not in r for r in records)
        elements = [orjson.loads(r[6:]) for r in records]
    else:
        elements = orjson.loads(body)
        assert body.startswith(b"[") and body.endswith(b"]")
    last = elements[-1]
    if fixture.startswith(("response-failed", "stream-cut")):
        assert set(last) == {"error"} and {"code", "message", "status"} <= set(last["error"])
    else:
        candidate = last["candidates"][0]
        assert candidate["finishReason"] == "STOP" and "usageMetadata" in last
        assert all("finishReason" not in e["candidates"][0] for e in elements[:-1])
    for element in elements:
        if "candidates" in element:
            assert element["modelVersion"] == "gemini-2.5-flash" and element["responseId"] == "r1"
            for part in element["candidates"][0]["content"]["parts"]:
                if "functionCall" in part:
                    assert set(part["functionCall"]) == {"id", "name", "args"}
                    assert isinstance(part["functionCall"]["args"], dict)


def test_fixture_usage_and_answer() -> None:
    raw = fixture_path("codex", "reasoning-text.constructed.sse").read_bytes()
    body = b"".join(_encode_fixture(raw, 4096, 100, True))
    got = chunks(body)
    assert got[-1]["usageMetadata"] == {
        "promptTokenCount": 2048,
        "candidatesTokenCount": 22,
        "totalTokenCount": 2262,
        "cachedContentTokenCount": 0,
        "thoughtsTokenCount": 192,
    }
    all_parts = parts(body)
    thoughts = "".join(p["text"] for p in all_parts if p.get("thought"))
    assert thoughts.startswith("**Computing the product**\n\nThe user asks")
    assert "".join(p["text"] for p in all_parts if not p.get("thought")) == "17 × 23 = **391**."
    signed = [p for p in all_parts if "thoughtSignature" in p]
    assert signed == [{"text": "17 × 23 = ", "thoughtSignature": signed[0]["thoughtSignature"]}]
    assert signature.decode(signed[0]["thoughtSignature"]).startswith("gAAAAABpZ2V4YW1wbGUt")  # type: ignore[union-attr]


# -- function calls
def test_parallel_calls_are_sent_whole_at_done_with_client_names() -> None:
    names = NameMap()
    long_name = "mcp__server__" + "y" * 70
    upstream_name = names.upstream(long_name)
    added = {"type": "function_call", "arguments": ""}
    body = run(
        [
            ev(
                "response.output_item.added",
                output_index=0,
                item={**added, "id": "fc_0", "call_id": "c0", "name": "a"},
            ),
            ev(
                "response.output_item.added",
                output_index=1,
                item={**added, "id": "fc_1", "call_id": "c1", "name": upstream_name},
            ),
            ev("response.function_call_arguments.delta", item_id="fc_1", output_index=1, delta='{"q"'),
            ev("response.function_call_arguments.delta", item_id="fc_0", output_index=0, delta='{"n":'),
            ev("response.function_call_arguments.delta", item_id="fc_0", output_index=0, delta=""),
            ev("response.function_call_arguments.delta", item_id="fc_1", output_index=1, delta=':"z"}'),
            call_done(1, "c1", upstream_name, '{"q":"z"}'),
            ev("response.function_call_arguments.delta", item_id="fc_0", output_index=0, delta="1}"),
            call_done(0, "c0", "a", '{"n":1}'),
            completed(),
        ],
        names=names,
    )
    assert short_name(long_name) == upstream_name != long_name
    got = chunks(body)
    assert [c["candidates"][0]["content"]["parts"] for c in got[:2]] == [
        [{"functionCall": {"id": "c1", "name": long_name, "args": {"q": "z"}}}],
        [{"functionCall": {"id": "c0", "name": "a", "args": {"n": 1}}}],
    ]
    assert got[-1]["candidates"][0]["finishReason"] == "STOP" and len(got) == 3


def test_arguments_only_on_done_and_bad_arguments() -> None:
    body = run(
        [
            ev(
                "response.output_item.added",
                output_index=0,
                item={"id": "fc_0", "type": "function_call", "call_id": "c", "name": "f"},
            ),
            call_done(0, "c", "f", '{"x":[1,2]}'),
            call_done(1, "d", "g", "not json"),
            call_done(2, "e", "h", ""),
            completed(),
        ]
    )
    assert [p["functionCall"]["args"] for p in parts(body) if "functionCall" in p] == [{"x": [1, 2]}, {}, {}]


# -- signatures and thoughts
def test_signature_rides_on_the_next_part_and_thoughts_only_when_asked() -> None:
    events = [
        ev("response.reasoning_summary_part.added", item_id="rs_0", summary_index=0),
        ev("response.reasoning_summary_text.delta", item_id="rs_0", delta="Plan"),
        ev("response.reasoning_summary_part.added", item_id="rs_0", summary_index=1),
        ev("response.reasoning_summary_text.delta", item_id="rs_0", delta="More"),
        reasoning_done(0, "gAAAAone", "Plan\n\nMore"),
        call_done(1, "c", "f", "{}"),
        reasoning_done(2, "gAAAAtwo"),
        reasoning_done(3, "gAAAAthree"),
        completed(),
    ]
    sig = signature.encode
    assert parts(run(events, thoughts=True)) == [
        {"text": "Plan", "thought": True},
        {"text": "\n\n", "thought": True},
        {"text": "More", "thought": True},
        {"functionCall": {"id": "c", "name": "f", "args": {}}, "thoughtSignature": sig("gAAAAone")},
        {"text": "", "thoughtSignature": sig("gAAAAtwo")},
        {"text": "", "thoughtSignature": sig("gAAAAthree")},
    ]
    assert [p for p in parts(run(events)) if p.get("thought")] == []


def test_message_text_only_in_done_is_sent_once() -> None:
    message = {"id": "m1", "type": "message", "content": [{"type": "output_text", "text": "Hi"}]}
    streamed = [ev("response.output_text.delta", item_id="m1", delta="Hi")]
    done = ev("response.output_item.done", output_index=0, item=message)
    assert [p["text"] for p in parts(run([*streamed, done, completed()]))] == ["Hi", ""]
    assert [p["text"] for p in parts(run([done, completed()]))] == ["Hi", ""]


@pytest.mark.parametrize(
    ("reason", "finish"),
    [("max_output_tokens", "MAX_TOKENS"), ("content_filter", "SAFETY"), (None, "MAX_TOKENS")],
)
def test_incomplete_finish_reasons(reason: str | None, finish: str) -> None:
    details = {"reason": reason} if reason else None
    response = {"status": "incomplete", "incomplete_details": details}
    got = chunks(run([ev("response.incomplete", response=response)]))
    assert got[-1]["candidates"][0]["finishReason"] == finish


# -- failures in the stream
def test_failure_after_content_is_an_in_stream_error_chunk() -> None:
    failed = ev(
        "response.failed",
        response={"status": "failed", "error": {"code": "context_length_exceeded", "message": "too long"}},
    )
    body = run([ev("response.output_text.delta", item_id="m", delta="a"), failed], sse=False)
    elements = orjson.loads(body)
    assert elements[-1]["error"]["code"] == 400 and elements[-1]["error"]["status"] == "INVALID_ARGUMENT"
    assert elements[-1]["error"]["message"] == "too long"
    error_event = ev("error", code="server_is_overloaded", message="busy")
    assert chunks(run([error_event]))[0]["error"]["status"] == "UNAVAILABLE"


def test_stream_without_terminal_event_ends_with_an_error_chunk() -> None:
    enc = encoder(sse=False)
    body = enc.feed([ev("response.output_text.delta", item_id="m", delta="Partial")]) + enc.finish()
    elements = orjson.loads(body)
    assert elements[0]["candidates"][0]["content"]["parts"] == [{"text": "Partial"}]
    assert elements[1]["error"]["status"] == "UNAVAILABLE" and "closed" in elements[1]["error"]["message"]
    assert enc.feed([completed()]) == b"" and enc.finish() == b""
