"""The Responses stream encoder relays the upstream's bytes and only numbers what it made up."""

from __future__ import annotations

from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.protocols.responses.encode import ResponsesStreamEncoder
from gptgate.upstreams.codex.decode import CodexStreamDecoder


def upstream(*payloads: bytes) -> list[Event]:
    return CodexStreamDecoder().feed(b"".join(b"data: " + p + b"\n\n" for p in payloads))


def test_relayed_bytes_are_the_upstreams_own_even_when_they_do_not_parse() -> None:
    odd = b'{"type":"response.output_text.delta","sequence_number":3,"delta":"x" }'
    broken = b'{"type":"response.output_text.delta","sequence_number":4,"delta":"y'
    out = ResponsesStreamEncoder().feed(upstream(odd, broken))
    assert out == (
        b"event: response.output_text.delta\ndata: " + odd + b"\n\n"
        b"event: response.output_text.delta\ndata: " + broken + b"\n\n"
    )


def test_a_synthetic_event_follows_the_last_relayed_number() -> None:
    encoder = ResponsesStreamEncoder()
    encoder.feed(upstream(b'{"type":"response.created","sequence_number":0,"response":{"id":"r"}}'))
    encoder.feed(upstream(b'{"type":"response.output_text.delta","sequence_number":7,"delta":"x"}'))
    cut = ev.failure("r", "stream_disconnected", "cut")
    out = encoder.feed([cut])
    assert out.startswith(b'event: response.failed\ndata: {"type":"response.failed","response":{"id":"r",')
    assert out.endswith(b',"sequence_number":8}\n\n')
    again = encoder.frames([Event(ev.ERROR, {"type": "error", "message": "m"})])
    assert again == [b'{"type":"error","message":"m","sequence_number":9}']
