"""Anthropic stream encoder: literal bytes, invariant §8.2 on every fixture, §7.7 edge cases."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gptgate.canonical.events import Event
from gptgate.canonical.names import NameMap
from gptgate.protocols.anthropic.decode import Thinking
from gptgate.protocols.anthropic.encode import AnthropicStreamEncoder
from gptgate.protocols.anthropic.signature import sign, unsign
from gptgate.upstreams.codex.decode import CodexStreamDecoder
from tests.protocols.anthropic.wire import check_stream, sse_events
from tests.support import fixture_path

FIXTURES = [
    "text.constructed.sse",
    "reasoning-text.constructed.sse",
    "function-call.constructed.sse",
    "response-failed.real-payload.sse",
    "stream-cut-no-terminal.constructed.sse",
]


def ev(t: str, **data: Any) -> Event:
    return Event(t, {"type": t, **data})


def encoder(thinking: Thinking = "shown", names: NameMap | None = None) -> AnthropicStreamEncoder:
    return AnthropicStreamEncoder(
        message_id="msg_1", model="claude-x", names=names or NameMap(), thinking=thinking, request_id="req_1"
    )


def encode(events: list[Event], thinking: Thinking = "shown", names: NameMap | None = None) -> bytes:
    enc = encoder(thinking, names)
    return enc.feed(events) + enc.finish()


def created() -> Event:
    return ev("response.created", response={"id": "resp_1", "usage": None})


def completed(output: list[Any] | None = None, status: str = "completed", **response: Any) -> Event:
    kind = "response.completed" if status == "completed" else "response.incomplete"
    return ev(kind, response={"status": status, "output": output or [], **response})


def call_added(item_id: str, call_id: str, name: str, index: int) -> Event:
    item = {"id": item_id, "type": "function_call", "call_id": call_id, "name": name, "arguments": ""}
    return ev("response.output_item.added", output_index=index, item=item)


def call_done(item_id: str, call_id: str, name: str, index: int, args: str) -> Event:
    item = {"id": item_id, "type": "function_call", "call_id": call_id, "name": name, "arguments": args}
    return ev("response.output_item.done", output_index=index, item=item)


def args(item_id: str, delta: str) -> Event:
    return ev("response.function_call_arguments.delta", item_id=item_id, delta=delta)


def text(item_id: str, delta: str) -> Event:
    return ev("response.output_text.delta", item_id=item_id, delta=delta)


def test_text_stream_literal_bytes() -> None:
    usage = {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 60}, "output_tokens": 7}
    message = {"id": "m", "type": "message", "content": [{"type": "output_text", "text": "Hi!"}]}
    body = encode(
        [
            created(),
            ev("response.content_part.added", item_id="m", part={"type": "output_text", "text": ""}),
            text("m", "Hi"),
            text("m", ""),
            text("m", "!"),
            ev("response.content_part.done", item_id="m", part={"type": "output_text", "text": "Hi!"}),
            ev("response.output_item.done", output_index=0, item=message),
            completed([message], usage=usage),
        ]
    )
    assert body == (
        b"event: message_start\n"
        b'data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",'
        b'"model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,'
        b'"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}\n\n'
        b"event: content_block_start\n"
        b'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
        b"event: content_block_delta\n"
        b'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n'
        b"event: content_block_delta\n"
        b'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}\n\n'
        b"event: content_block_stop\n"
        b'data: {"type":"content_block_stop","index":0}\n\n'
        b"event: message_delta\n"
        b'data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},'
        b'"usage":{"input_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":60,'
        b'"output_tokens":7}}\n\n'
        b"event: message_stop\n"
        b'data: {"type":"message_stop"}\n\n'
    )


def test_summaryless_reasoning_then_call_with_arguments_only_in_item_done_literal_bytes() -> None:
    reasoning = {"id": "rs_1", "type": "reasoning", "summary": [], "encrypted_content": "ENC"}
    body = encode(
        [
            ev("response.output_item.added", output_index=0, item={"id": "rs_1", "type": "reasoning"}),
            ev("response.output_item.done", output_index=0, item=reasoning),
            call_added("fc_1", "call_1", "get_weather", 1),
            call_done("fc_1", "call_1", "get_weather", 1, '{"city":"Paris"}'),
            completed(),
        ]
    )
    signature = sign("rs_1", "ENC").encode()
    assert body == (
        b"event: message_start\n"
        b'data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",'
        b'"model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,'
        b'"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}\n\n'
        b"event: content_block_start\n"
        b'data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"",'
        b'"signature":""}}\n\n'
        b"event: content_block_delta\n"
        b'data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"'
        + signature
        + b'"}}\n\n'
        b"event: content_block_stop\n"
        b'data: {"type":"content_block_stop","index":0}\n\n'
        b"event: content_block_start\n"
        b'data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_1",'
        b'"name":"get_weather","input":{}}}\n\n'
        b"event: content_block_delta\n"
        b'data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",'
        b'"partial_json":"{\\"city\\":\\"Paris\\"}"}}\n\n'
        b"event: content_block_stop\n"
        b'data: {"type":"content_block_stop","index":1}\n\n'
        b"event: message_delta\n"
        b'data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},'
        b'"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,'
        b'"output_tokens":0}}\n\n'
        b"event: message_stop\n"
        b'data: {"type":"message_stop"}\n\n'
    )
    assert unsign(signature.decode()) == ("rs_1", "ENC")


def test_arguments_only_in_arguments_done_are_sent_exactly_once() -> None:
    message = check_stream(
        encode(
            [
                call_added("fc_1", "call_1", "f", 0),
                args("fc_1", ""),  # an empty fragment is not fatal (§7.7 #2)
                ev("response.function_call_arguments.done", item_id="fc_1", arguments='{"x":1}'),
                call_done("fc_1", "call_1", "f", 0, '{"x":1}'),
                completed(),
            ]
        )
    )
    assert message["content"] == [{"type": "tool_use", "id": "call_1", "name": "f", "input": {"x": 1}}]
    assert message["stop_reason"] == "tool_use"


def test_interleaved_parallel_calls_become_consecutive_blocks() -> None:
    body = encode(
        [
            created(),
            call_added("fc_a", "call_a", "alpha", 0),
            call_added("fc_b", "call_b", "beta", 1),
            args("fc_b", '{"b"'),
            args("fc_a", '{"a"'),
            args("fc_a", ""),
            args("fc_b", ":1}"),
            args("fc_a", ":2}"),
            call_done("fc_a", "call_a", "alpha", 0, '{"a":2}'),
            call_done("fc_b", "call_b", "beta", 1, '{"b":1}'),
            completed(),
        ]
    )
    message = check_stream(body)
    assert message["content"] == [
        {"type": "tool_use", "id": "call_a", "name": "alpha", "input": {"a": 2}},
        {"type": "tool_use", "id": "call_b", "name": "beta", "input": {"b": 1}},
    ]
    fragments = [
        (d["index"], d["delta"]["partial_json"]) for n, d in sse_events(body) if n == "content_block_delta"
    ]
    assert fragments == [(0, '{"a"'), (0, ":2}"), (1, '{"b"'), (1, ":1}")]


def test_interleaved_call_whose_block_never_finished_is_flushed_at_the_end() -> None:
    message = check_stream(
        encode(
            [
                call_added("fc_a", "call_a", "alpha", 0),
                call_added("fc_b", "call_b", "beta", 1),
                args("fc_b", "{}"),
                args("fc_a", "{}"),
                completed(),
            ]
        )
    )
    assert [(b["name"], b["input"]) for b in message["content"]] == [("alpha", {}), ("beta", {})]


def test_long_tool_names_and_unsafe_call_ids_go_back_as_the_client_sent_them() -> None:
    names = NameMap()
    long_name = "mcp__some_server__" + "x" * 60
    short = names.upstream(long_name)
    message = check_stream(
        encode(
            [
                call_added("fc_1", "call.1/x", short, 0),
                call_done("fc_1", "call.1/x", short, 0, "{}"),
                completed(),
            ],
            names=names,
        )
    )
    block = message["content"][0]
    assert block["name"] == long_name
    assert block["id"].startswith("call_1_x_") and len(block["id"]) <= 64


def test_text_only_in_item_done_is_sent_once_and_not_duplicated_after_deltas() -> None:
    message = {"id": "m", "type": "message", "content": [{"type": "output_text", "text": "Hi"}]}
    done = ev("response.output_item.done", output_index=0, item=message)
    only_done = check_stream(encode([done, completed([message])]))
    assert only_done["content"] == [{"type": "text", "text": "Hi"}]
    both = check_stream(encode([text("m", "Hi"), done, completed([message])]))
    assert both["content"] == [{"type": "text", "text": "Hi"}]


@pytest.mark.parametrize(
    ("thinking", "expected"),
    [
        ("shown", [{"type": "thinking", "thinking": "First\n\nSecond"}]),
        ("omitted", [{"type": "thinking", "thinking": ""}]),
        ("off", []),
    ],
)
def test_thinking_modes(thinking: Thinking, expected: list[dict[str, Any]]) -> None:
    where = {"item_id": "rs_1", "output_index": 0}
    item = {
        "id": "rs_1",
        "type": "reasoning",
        "encrypted_content": "ENC",
        "summary": [{"type": "summary_text", "text": "First"}, {"type": "summary_text", "text": "Second"}],
    }
    message = check_stream(
        encode(
            [
                ev("response.reasoning_summary_part.added", summary_index=0, **where),
                ev("response.reasoning_summary_text.delta", summary_index=0, delta="First", **where),
                ev("response.reasoning_summary_part.added", summary_index=1, **where),
                ev("response.reasoning_summary_text.delta", summary_index=1, delta="Second", **where),
                ev("response.output_item.done", output_index=0, item=item),
                text("m", "ok"),
                completed(),
            ],
            thinking=thinking,
        )
    )
    thoughts = [b for b in message["content"] if b["type"] == "thinking"]
    assert [{"type": b["type"], "thinking": b["thinking"]} for b in thoughts] == expected
    assert all(unsign(b["signature"]) == ("rs_1", "ENC") for b in thoughts)
    assert message["content"][-1] == {"type": "text", "text": "ok"}


def test_summary_only_in_item_done_is_still_shown() -> None:
    item = {
        "id": "rs_1",
        "type": "reasoning",
        "encrypted_content": "E",
        "summary": [{"type": "summary_text", "text": "Plan"}],
    }
    message = check_stream(encode([ev("response.output_item.done", output_index=0, item=item), completed()]))
    assert message["content"][0]["thinking"] == "Plan"


@pytest.mark.parametrize(
    ("status", "reason", "tools", "expected"),
    [
        ("completed", None, False, "end_turn"),
        ("incomplete", "max_output_tokens", False, "max_tokens"),
        ("incomplete", "content_filter", False, "refusal"),
        ("completed", None, True, "tool_use"),
    ],
)
def test_stop_reasons(status: str, reason: str | None, tools: bool, expected: str) -> None:
    events = [text("m", "x")]
    if tools:
        events += [call_added("fc", "call", "f", 1), call_done("fc", "call", "f", 1, "{}")]
    details = {"reason": reason} if reason else None
    events.append(completed(status=status, incomplete_details=details))
    assert check_stream(encode(events))["stop_reason"] == expected


def test_failure_after_content_closes_the_block_and_ends_with_an_error_event() -> None:
    failed = ev(
        "response.failed",
        response={"status": "failed", "error": {"code": "server_is_overloaded", "message": "busy"}},
    )
    body = encode([created(), text("m", "partial"), failed])
    message = check_stream(body)
    assert message["content"] == [{"type": "text", "text": "partial"}]
    assert message["error"] == {"type": "overloaded_error", "message": "busy"}
    assert body.endswith(
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"busy"},'
        b'"request_id":"req_1"}\n\n'
    )


def test_error_event_and_missing_terminal() -> None:
    error = ev("error", code="context_length_exceeded", message="too long")
    assert check_stream(encode([created(), error]))["error"]["type"] == "invalid_request_error"
    cut = check_stream(encode([created(), text("m", "par")]))
    assert cut["error"]["type"] == "api_error"


def test_ping_is_the_keepalive() -> None:
    assert AnthropicStreamEncoder.keepalive == b'event: ping\ndata: {"type":"ping"}\n\n'
    assert sse_events(AnthropicStreamEncoder.keepalive) == [("ping", {"type": "ping"})]


def _replay(raw: bytes, size: int) -> bytes:
    """A fixture through the Codex decoder in reads of ``size`` bytes, one feed per read."""
    decoder, enc = CodexStreamDecoder(), encoder()
    out = b""
    for start in range(0, len(raw), size):
        out += enc.feed(decoder.feed(raw[start : start + size]))
    return out + enc.feed(decoder.flush()) + enc.finish()


@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_fixture_at_every_chunking_keeps_the_invariants(fixture: str) -> None:
    raw = fixture_path("codex", fixture).read_bytes()
    whole = _replay(raw, len(raw))
    check_stream(whole)
    for size in (1, 2, 7, 64, 500):
        assert _replay(raw, size) == whole


def test_fixture_contents() -> None:
    tool = check_stream(_replay(fixture_path("codex", "function-call.constructed.sse").read_bytes(), 64))
    assert [b["type"] for b in tool["content"]] == ["thinking", "tool_use"]
    assert tool["content"][1]["input"] == {"cmd": "echo hi"}
    assert tool["usage"]["input_tokens"] == 5120 - 4864 and tool["usage"]["cache_read_input_tokens"] == 4864
    thought = check_stream(_replay(fixture_path("codex", "reasoning-text.constructed.sse").read_bytes(), 3))
    assert thought["content"][0]["thinking"].startswith("**Computing the product**\n\nThe user asks")
    assert thought["content"][1] == {"type": "text", "text": "17 × 23 = **391**."}
    item_id, encrypted = unsign(thought["content"][0]["signature"]) or ("", "")
    assert item_id == "rs_1b2c3d4e5f60718293a4b5c6d7e8f9aa000002" and encrypted.startswith("gAAAAAB")
    assert orjson.loads(orjson.dumps(thought))  # plain JSON all the way down
