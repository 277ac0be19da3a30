"""Each Codex fixture decodes to the outcome its README states, however the bytes are split."""

from __future__ import annotations

import pytest

from gptgate.canonical.events import Event
from gptgate.canonical.fold import Folder
from gptgate.canonical.response import message_text, reasoning_summary, usage_of
from gptgate.upstreams.codex.decode import CodexStreamDecoder
from tests.support import fixture_path


def decode(name: str, chunk: int) -> list[Event]:
    raw = fixture_path("codex", name).read_bytes()
    decoder = CodexStreamDecoder()
    events: list[Event] = []
    for i in range(0, len(raw), chunk):
        events += decoder.feed(raw[i : i + chunk])
    return events + decoder.flush()


def fold(events: list[Event]) -> dict[str, object]:
    folder = Folder()
    folder.feed(events)
    assert folder.response is not None
    return folder.response


@pytest.mark.parametrize("chunk", [1, 7, 100, 1 << 20])
def test_text(chunk: int) -> None:
    events = decode("text.constructed.sse", chunk)
    assert [e.data["sequence_number"] for e in events] == list(range(11))
    response = fold(events)
    assert message_text(response["output"][0]) == "Hello! How can I help you today?"  # type: ignore[index]
    usage = usage_of(response)
    assert (usage.input_tokens, usage.cached_tokens, usage.output_tokens) == (1234, 1152, 12)


def test_event_raw_bytes_are_the_data_line() -> None:
    raw = fixture_path("codex", "text.constructed.sse").read_bytes()
    events = decode("text.constructed.sse", 13)
    assert (
        b"".join(b"event: " + e.type.encode() + b"\ndata: " + (e.raw or b"") + b"\n\n" for e in events) == raw
    )


@pytest.mark.parametrize("chunk", [3, 1 << 20])
def test_reasoning_text(chunk: int) -> None:
    response = fold(decode("reasoning-text.constructed.sse", chunk))
    reasoning, message = response["output"]  # type: ignore[misc]
    assert reasoning_summary(reasoning).startswith("**Computing the product**\n\nThe user asks for 17 × 23.")
    assert message_text(message) == "17 × 23 = **391**."
    assert usage_of(response).reasoning_tokens == 192


def test_function_call() -> None:
    response = fold(decode("function-call.constructed.sse", 64))
    call = response["output"][1]  # type: ignore[index]
    assert call["type"] == "function_call"
    assert (call["name"], call["arguments"], call["call_id"]) == (
        "exec_command",
        '{"cmd":"echo hi"}',
        "call_Qm9vQmFyQmF6UXV4MTIzNDU2",
    )


def test_response_failed_context_window() -> None:
    events = decode("response-failed.real-payload.sse", 50)
    assert events[-1].type == "response.failed"
    response = fold(events)
    assert response["status"] == "failed"
    assert response["error"] == {  # verbatim upstream payload
        "code": "context_length_exceeded",
        "message": "Your input exceeds the context window of this model. Please adjust your input and try again.",
    }


def test_stream_cut_is_a_failure_not_an_answer() -> None:
    events = decode("stream-cut-no-terminal.constructed.sse", 31)
    assert events[-1].type == "response.failed"
    assert events[-1].raw is None  # synthetic
    response = fold(events)
    assert response["status"] == "failed"
    assert response["error"]["code"] == "stream_disconnected"  # type: ignore[index]
    assert response["id"] == "resp_6d7e8f9012345678a9b0c1d2e3f40516273849ab"


def test_completed_with_empty_output_is_rebuilt_from_items() -> None:
    raw = fixture_path("codex", "text.constructed.sse").read_bytes()
    head, _, last = raw.rstrip(b"\n").rpartition(b"\n\n")
    emptied = last.replace(
        last[last.index(b'"output":[') : last.index(b'],"parallel_tool_calls"') + 1], b'"output":[]'
    )
    decoder = CodexStreamDecoder()
    response = fold(decoder.feed(head + b"\n\n" + emptied + b"\n\n") + decoder.flush())
    assert message_text(response["output"][0]) == "Hello! How can I help you today?"  # type: ignore[index]


def test_unparsable_and_unknown_events_are_tolerated() -> None:
    decoder = CodexStreamDecoder()
    events = decoder.feed(
        b'event: x\ndata: {not json\n\n: comment\n\ndata: {"type":"response.new_thing","a":1}\n\n'
    )
    assert [e.type for e in events] == ["response.new_thing"]


# -- lazy payloads: the type is read off the bytes, the payload parsed when a door reads it
DELTA = b'{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","delta":"He"}'


def test_a_known_type_at_the_front_is_read_off_the_bytes_and_parsed_on_first_read() -> None:
    [event] = CodexStreamDecoder().feed(b"event: response.output_text.delta\ndata: " + DELTA + b"\n\n")
    assert (event.type, event.raw) == ("response.output_text.delta", DELTA)
    assert event.data == {
        "type": "response.output_text.delta",
        "sequence_number": 4,
        "item_id": "msg_1",
        "delta": "He",
    }
    assert event.data is event.data  # parsed once


def test_a_payload_with_its_type_elsewhere_or_unknown_is_parsed_at_once() -> None:
    decoder = CodexStreamDecoder()
    events = decoder.feed(
        b'data: {"sequence_number":1,"type":"response.in_progress","response":{}}\n\n'
        b'data: {"type":"response.brand_new","sequence_number":2}\n\n'
        b'data: {"sequence_number":3,"type":"response.completed"\n\n'  # broken: skipped
    )
    assert [(e.type, e.data["sequence_number"]) for e in events] == [
        ("response.in_progress", 1),
        ("response.brand_new", 2),
    ]
    assert decoder.terminal is None


def test_only_a_whole_known_type_at_the_front_is_read_off_the_bytes() -> None:
    decoder = CodexStreamDecoder()
    events = decoder.feed(
        b'data: {"type":"response.completed\n\n'  # no closing quote: not JSON, skipped
        b'data: {"type":"response.completed_x","sequence_number":1}\n\n'  # a longer, unknown type
        b'data: {"type":"response.completed\\u0021","sequence_number":2}\n\n'  # escaped: parsed
        b'data: {"typ":"e","type":"response.completed","sequence_number":3}\n\n'
    )
    assert [(e.type, e.data["sequence_number"]) for e in events] == [
        ("response.completed_x", 1),
        ("response.completed!", 2),
        ("response.completed", 3),
    ]
    assert events[2].data["typ"] == "e"  # parsed at once, not lazily


def test_a_lazy_payload_that_is_not_json_reads_as_an_empty_event_of_its_type() -> None:
    broken = b'{"type":"response.output_text.delta","delta":"He'
    [event] = CodexStreamDecoder().feed(b"data: " + broken + b"\n\n")
    assert event.raw == broken  # a pass-through relays what the upstream sent
    assert event.data == {"type": "response.output_text.delta"}  # a translating door sees no delta


def test_the_terminal_type_is_known_without_a_parse_and_a_cut_names_the_created_response() -> None:
    decoder = CodexStreamDecoder("gpt-5.5")
    created = b'{"type":"response.created","response":{"id":"resp_9","model":"gpt-5.5"}}'
    decoder.feed(b"data: " + created + b"\n\n")
    [cut] = decoder.flush()
    assert cut.data["response"]["id"] == "resp_9"
    assert cut.data["response"]["model"] == "gpt-5.5"
    assert cut.data["response"]["error"]["code"] == "stream_disconnected"
    odd = CodexStreamDecoder()  # the id not first: the payload is parsed for it
    odd.feed(b'data: {"type":"response.created","response":{"object":"response","id":"resp_7"}}\n\n')
    assert odd.cut("c", "m").data["response"]["id"] == "resp_7"
    done = CodexStreamDecoder()
    done.feed(b'data: {"type":"response.completed","response":{"status":"completed"}}\n\n')
    assert done.terminal == "response.completed"
    assert done.flush() == []
