"""Chat stream invariants (client-apis.md §8.1) on event orders peers got wrong (§7.7)."""

from __future__ import annotations

from typing import Any

import orjson

from gptgate.canonical.events import Event
from gptgate.protocols.chat.encode import ChatStreamEncoder
from tests.support import chat_chunks


def ev(t: str, **data: Any) -> Event:
    return Event(t, {"type": t, **data})


def encode(
    events: list[Event], include_usage: bool = False, reasoning: str = "reasoning_content"
) -> list[Any]:
    enc = ChatStreamEncoder(
        chunk_id="chatcmpl-x", created=1, model="m", include_usage=include_usage, reasoning=reasoning
    )  # type: ignore[arg-type]
    body = enc.feed(events) + enc.finish()
    return chat_chunks(body)


def call_added(item_id: str, call_id: str, name: str, index: int, args: str = "") -> Event:
    item = {"id": item_id, "type": "function_call", "call_id": call_id, "name": name, "arguments": args}
    return ev("response.output_item.added", output_index=index, item=item)


def completed(output: list[Any] | None = None, **response: Any) -> Event:
    return ev("response.completed", response={"status": "completed", "output": output or [], **response})


def test_interleaved_parallel_calls_keep_their_own_index() -> None:
    chunks = encode(
        [
            ev("response.created", response={"id": "r"}),
            call_added("fc_a", "call_a", "alpha", 0),
            call_added("fc_b", "call_b", "beta", 1),
            ev("response.function_call_arguments.delta", item_id="fc_b", delta='{"b"'),
            ev("response.function_call_arguments.delta", item_id="fc_a", delta='{"a"'),
            ev(
                "response.function_call_arguments.delta", item_id="fc_a", delta=""
            ),  # empty delta: skipped, not fatal
            ev("response.function_call_arguments.delta", item_id="fc_b", delta=":1}"),
            ev("response.function_call_arguments.delta", item_id="fc_a", delta=":2}"),
            completed(),
        ]
    )
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    calls = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks[1:-2]]
    assert calls[0] == {
        "index": 0,
        "id": "call_a",
        "type": "function",
        "function": {"name": "alpha", "arguments": ""},
    }
    assert calls[1] == {
        "index": 1,
        "id": "call_b",
        "type": "function",
        "function": {"name": "beta", "arguments": ""},
    }
    assert [(c["index"], c["function"]) for c in calls[2:]] == [
        (1, {"arguments": '{"b"'}),
        (0, {"arguments": '{"a"'}),
        (1, {"arguments": ":1}"}),
        (0, {"arguments": ":2}"}),
    ]
    assert all(set(c) == {"index", "function"} for c in calls[2:])  # no id/name repeated
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1]].count("tool_calls") == 1
    assert chunks[-1] == "[DONE]"


def test_arguments_only_on_done_are_sent_exactly_once() -> None:
    done_item = {
        "id": "fc_1",
        "type": "function_call",
        "call_id": "call_1",
        "name": "f",
        "arguments": '{"x":1}',
    }
    chunks = encode(
        [
            call_added("fc_1", "call_1", "f", 0),
            ev("response.function_call_arguments.done", item_id="fc_1", arguments='{"x":1}'),
            ev("response.output_item.done", output_index=0, item=done_item),
            completed([done_item]),
        ]
    )
    args = [
        tc["function"].get("arguments")
        for c in chunks
        if isinstance(c, dict)
        for tc in c["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert args == ["", '{"x":1}']


def test_text_is_not_duplicated_from_item_done() -> None:
    message = {"id": "msg_1", "type": "message", "content": [{"type": "output_text", "text": "Hi"}]}
    chunks = encode(
        [
            ev("response.output_text.delta", item_id="msg_1", delta="Hi"),
            ev("response.output_item.done", output_index=0, item=message),
            completed([message]),
        ]
    )
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if isinstance(c, dict))
    assert text == "Hi"


def test_usage_chunk_only_when_asked_and_last_before_done() -> None:
    usage = {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 4},
        "output_tokens": 3,
        "output_tokens_details": {"reasoning_tokens": 1},
    }
    chunks = encode(
        [ev("response.output_text.delta", item_id="m", delta="x"), completed(usage=usage)], include_usage=True
    )
    assert all(c["usage"] is None for c in chunks[:-2])
    assert chunks[-2]["choices"] == []
    assert chunks[-2]["usage"]["prompt_tokens_details"]["cached_tokens"] == 4
    assert chunks[-2]["usage"]["completion_tokens_details"]["reasoning_tokens"] == 1
    assert chunks[-2]["usage"]["total_tokens"] == 13
    plain = encode([ev("response.output_text.delta", item_id="m", delta="x"), completed(usage=usage)])
    assert all("usage" not in c for c in plain if isinstance(c, dict))


def test_think_mode_wraps_reasoning_in_content() -> None:
    chunks = encode(
        [
            ev("response.reasoning_summary_text.delta", item_id="rs", delta="hmm"),
            ev("response.output_text.delta", item_id="m", delta="answer"),
            completed(),
        ],
        reasoning="think",
    )
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if isinstance(c, dict))
    assert text == "<think>\nhmm</think>\n\nanswer"


def test_incomplete_maps_to_length_and_a_missing_terminal_is_an_error() -> None:
    chunks = encode(
        [
            ev(
                "response.incomplete",
                response={"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}},
            )
        ]
    )
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    cut = encode([ev("response.output_text.delta", item_id="m", delta="x")])
    assert cut[-2]["error"]["code"] == "stream_disconnected" and cut[-1] == "[DONE]"
    assert orjson.dumps(cut[-2]["error"]).count(b"message") == 1
