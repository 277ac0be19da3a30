"""Each web fixture decodes to the result its README states (tests/fixtures/web/README.md)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.canonical.fold import Folder
from gptgate.upstreams.chatgpt_web.decode import WebStreamDecoder
from tests.support import fixture_path

OLD_ANSWER = (
    "明白了！我们可以从获取你的环境信息开始，以便更好地适应你的系统。"
    "首先，我将编写一段Python代码来获取操作系统信息和Python环境信息。\n\n"
)


def decode(data: bytes, step: int = 0) -> tuple[WebStreamDecoder, list[Event]]:
    decoder = WebStreamDecoder("gpt-5", response_id="resp_test", created_at=1700000000)
    events: list[Event] = []
    if step:
        for i in range(0, len(data), step):
            events += decoder.feed(data[i : i + step])
    else:
        events += decoder.feed(data)
    events += decoder.flush()
    return decoder, events


def fold(events: list[Event]) -> dict[str, Any]:
    folder = Folder()
    folder.feed(events)
    assert folder.response is not None
    return folder.response


def fixture(name: str) -> bytes:
    return fixture_path("web", name).read_bytes()


@pytest.mark.parametrize("step", [0, 1, 7, 97])
def test_delta_v1_text(step: int) -> None:
    decoder, events = decode(fixture("delta-v1-text.constructed.sse"), step)
    response = fold(events)
    assert response["status"] == "completed"
    assert [item["type"] for item in response["output"]] == ["message"]
    assert response["output"][0]["content"][0]["text"] == "Hello there, how are you?"
    assert [e.data["delta"] for e in events if e.type == ev.TEXT_DELTA] == [
        "Hello",
        " there,",
        " how are",
        " you?",
    ]
    assert response["usage"]["output_tokens"] == 7
    assert response["metadata"] == {
        "conversation_id": "6a1f2b3c-4d5e-8321-9f00-112233445566",
        "message_id": "90c192cf-d3ac-44af-8f21-ddb66cad4a26",
        "model_slug": "gpt-5-instant",
    }
    assert decoder.title == "Friendly Greeting"  # after message_stream_complete, still read
    assert decoder.plan_type == "plus"
    assert sum(e.type in ev.TERMINAL for e in events) == 1


def test_delta_v1_text_event_sequence() -> None:
    _, events = decode(fixture("delta-v1-text.constructed.sse"))
    assert [e.type for e in events] == [
        ev.CREATED,
        ev.IN_PROGRESS,
        ev.ITEM_ADDED,
        ev.PART_ADDED,
        ev.TEXT_DELTA,
        ev.TEXT_DELTA,
        ev.TEXT_DELTA,
        ev.TEXT_DELTA,
        ev.TEXT_DONE,
        ev.PART_DONE,
        ev.ITEM_DONE,
        ev.COMPLETED,
    ]
    assert events[0].data["response"] == {
        "id": "resp_test",
        "object": "response",
        "created_at": 1700000000,
        "status": "in_progress",
        "error": None,
        "incomplete_details": None,
        "model": "gpt-5",
        "output": [],
        "usage": None,
    }


@pytest.mark.parametrize("step", [0, 13])
def test_delta_v1_reasoning(step: int) -> None:
    _, events = decode(fixture("delta-v1-reasoning.constructed.sse"), step)
    response = fold(events)
    assert response["status"] == "completed"
    reasoning, answer = response["output"]
    assert reasoning["type"] == "reasoning"
    assert reasoning["summary"] == [
        {
            "type": "summary_text",
            "text": "**Checking the arithmetic**\n\n17 times 20 is 340, plus 17 times 3 is 51, total 391.",
        }
    ]
    assert answer["content"][0]["text"] == "17 × 23 = **391**."
    summary = "".join(e.data["delta"] for e in events if e.type == ev.SUMMARY_DELTA)
    assert "Thought for 4s" not in summary + answer["content"][0]["text"]
    assert response["usage"]["output_tokens_details"] == {"reasoning_tokens": 27}
    assert response["metadata"]["model_slug"] == "gpt-5-thinking"


def test_old_format_snapshots_without_finish_record_close_cleanly() -> None:
    _, events = decode(fixture("old-format-snapshots.real-excerpt.sse"), 50)
    response = fold(events)
    assert response["status"] == "completed"
    assert [item["content"][0]["text"] for item in response["output"]] == [OLD_ANSWER]
    deltas = [e.data["delta"] for e in events if e.type == ev.TEXT_DELTA]
    assert deltas[:3] == ["明", "白", "了"]
    assert "".join(deltas) == OLD_ANSWER  # the user echo and the hidden system message are skipped


def test_old_format_tool_turn_renders_code_and_output() -> None:
    _, events = decode(fixture("old-format-tool-turn.constructed.sse"))
    response = fold(events)
    assert response["status"] == "completed"
    assert response["output"][0]["content"][0]["text"] == (
        "```python\n17 * 23\n```\n\n```Output\n391\n```\n\n17 × 23 = **391**."
    )


def test_cut_before_done_fails_unless_the_answer_finished() -> None:
    data = fixture("delta-v1-text.constructed.sse")
    cut = data[: data.index(b'{"p": "", "o": "patch"')]
    _, events = decode(cut)
    assert events[-1].type == ev.FAILED
    assert events[-1].data["response"]["error"]["code"] == "stream_disconnected"
    done = data[
        : data.index(
            b'data: {"type": "message_marker", "conversation_id": "6a1f2b3c-4d5e-8321-9f00-112233445566", "message_id": "90c192cf-d3ac-44af-8f21-ddb66cad4a26", "marker": "last_token"'
        )
    ]
    _, events = decode(done)
    assert events[-1].type == ev.COMPLETED


def test_max_tokens_is_incomplete_and_stream_error_fails() -> None:
    record = (
        b'data: {"message": {"id": "m1", "author": {"role": "assistant"}, "content": {"content_type": "text",'
        b' "parts": ["Long"]}, "status": "finished_successfully", "end_turn": false, "recipient": "all",'
        b' "metadata": {"finish_details": {"type": "max_tokens"}}}, "conversation_id": "c1", "error": null}\n\n'
    )
    _, events = decode(record + b"data: [DONE]\n\n")
    assert events[-1].type == ev.INCOMPLETE
    assert events[-1].data["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    _, events = decode(
        b'data: {"message": null, "conversation_id": null, "error": "Something went wrong"}\n\n'
    )
    assert events[-1].type == ev.FAILED
    assert events[-1].data["response"]["error"] == {
        "code": "upstream_error",
        "message": "Something went wrong",
    }


def test_hidden_messages_and_sticky_ops() -> None:
    records = [
        b'event: delta_encoding\ndata: "v1"\n\n',
        b'event: delta\ndata: {"v": {"message": {"id": "b", "author": {"role": "assistant"}, "content":'
        b' {"content_type": "text", "parts": ["remember"]}, "status": "in_progress", "recipient": "bio",'
        b' "channel": "commentary"}, "conversation_id": "c"}, "c": 0}\n\n',
        b'event: delta\ndata: {"v": {"message": {"id": "a", "author": {"role": "assistant"}, "content":'
        b' {"content_type": "text", "parts": [""]}, "status": "in_progress", "recipient": "all",'
        b' "channel": "final"}, "conversation_id": "c"}, "c": 1}\n\n',
        b'data: {"p": "/message/content/parts/0", "o": "append", "v": "ab"}\n\n',
        b'data: {"v": "cd"}\n\n',
        b'data: {"p": "/message/content/parts/0", "o": "truncate", "v": 3}\n\n',
        b'data: {"o": "append", "v": "X"}\n\n',
        b'data: {"type": "message_stream_complete", "conversation_id": "c"}\n\n',
    ]
    _, events = decode(b"".join(records))
    assert [e.data["delta"] for e in events if e.type == ev.TEXT_DELTA] == ["ab", "cd"]
    assert fold(events)["output"][0]["content"][0]["text"] == "abcd"


def test_strings_where_objects_belong_are_read_as_empty_not_a_crash() -> None:
    """A record with ``metadata`` or ``author`` that is not an object (a gateway's quirk, a
    truncated record) must not break the stream: the answer still arrives and the turn ends."""
    message = {
        "id": "m1",
        "author": {"role": "assistant"},
        "content": {"content_type": "text", "parts": ["Hello"]},
        "status": "in_progress",
        "recipient": "all",
        "metadata": "not an object",
    }
    done = {**message, "status": "finished_successfully", "end_turn": True}
    odd_author = {**message, "id": "m0", "author": "assistant"}
    records = [
        {"message": odd_author, "conversation_id": "c1"},
        {"message": message, "conversation_id": "c1"},
        {"message": done, "conversation_id": "c1"},
        {"type": "server_ste_metadata", "metadata": ["x"]},
    ]
    body = b"".join(b"data: " + orjson.dumps(r) + b"\n\n" for r in records) + b"data: [DONE]\n\n"
    _, events = decode(body)
    response = fold(events)
    assert response["status"] == "completed"
    assert response["output"][-1]["content"][0]["text"] == "Hello"
