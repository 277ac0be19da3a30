"""Read an Anthropic SSE body and check invariant §8.2 of client-apis.md on it.

``check_stream`` is the one checker the unit, golden, Claude Code and SDK tests share: it
fails on any overlap, gap or unclosed block and returns the message the events build (what the
anthropic SDK's accumulator would hold).
"""

from __future__ import annotations

from typing import Any

import orjson

USAGE_KEYS = {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}


def sse_events(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` of every record; the name always equals ``data["type"]``."""
    out: list[tuple[str, dict[str, Any]]] = []
    for record in body.split(b"\n\n"):
        if not record.strip():
            continue
        lines = record.split(b"\n")
        assert len(lines) == 2 and lines[0].startswith(b"event: ") and lines[1].startswith(b"data: "), record
        name = lines[0][7:].decode()
        data = orjson.loads(lines[1][6:])
        assert data["type"] == name, record
        out.append((name, data))
    return out


def check_stream(body: bytes) -> dict[str, Any]:
    """Invariant §8.2, then the accumulated message (``error`` set when the stream failed)."""
    events = [(n, d) for n, d in sse_events(body) if n != "ping"]
    assert events, "empty stream"
    name, first = events[0]
    if name == "error":  # a failure before anything was said
        assert len(events) == 1
        return {"content": [], "error": first["error"]}
    assert name == "message_start", name
    message = first["message"]
    assert set(message["usage"]) >= USAGE_KEYS and message["content"] == []
    assert message["stop_reason"] is None and message["type"] == "message"
    content: list[dict[str, Any]] = []
    open_index: int | None = None
    unsigned = False  # a thinking block closed without a signature: only an error may follow
    last_delta: str | None = None
    result: dict[str, Any] = {"id": message["id"], "model": message["model"], "content": content}
    for position, (name, data) in enumerate(events[1:], start=1):
        if name == "content_block_start":
            assert open_index is None, f"block {data['index']} starts while {open_index} is open"
            assert data["index"] == len(content), "index is not the block's position"
            open_index, last_delta = data["index"], None
            content.append(_fresh(data["content_block"]))
        elif name == "content_block_delta":
            assert data["index"] == open_index, "delta for a block that is not open"
            last_delta = data["delta"]["type"]
            _apply(content[open_index], data["delta"])
        elif name == "content_block_stop":
            assert data["index"] == open_index, "stop for a block that is not open"
            block = content[open_index]
            if block["type"] == "thinking" and last_delta != "signature_delta":
                unsigned = True
            if block["type"] == "tool_use":
                text = block.pop("_json")
                block["input"] = orjson.loads(text) if text else {}
            open_index = None
        elif name == "message_delta":
            assert open_index is None, "message_delta while a block is open"
            assert not unsigned, "thinking block closed without a signature"
            assert data["delta"]["stop_reason"] is not None
            assert set(data["usage"]) >= {"output_tokens"}
            result["stop_reason"] = data["delta"]["stop_reason"]
            result["usage"] = data["usage"]
            assert [n for n, _ in events[position + 1 :]] == ["message_stop"], "message_stop must end it"
            return result
        elif name == "error":
            assert position == len(events) - 1, "events after an error"
            assert open_index is None, "error while a block is open"
            assert data["error"]["type"] and data["error"]["message"]
            result["error"] = data["error"]
            return result
        else:
            raise AssertionError(f"unexpected event {name}")
    raise AssertionError("stream ended without message_delta/message_stop or error")


def _fresh(block: dict[str, Any]) -> dict[str, Any]:
    block = dict(block)
    if block["type"] == "tool_use":
        assert block["input"] == {} and block["id"] and block["name"]
        block["_json"] = ""
    return block


def _apply(block: dict[str, Any], delta: dict[str, Any]) -> None:
    kind = delta["type"]
    if kind == "text_delta":
        assert block["type"] == "text"
        block["text"] += delta["text"]
    elif kind == "thinking_delta":
        assert block["type"] == "thinking"
        block["thinking"] += delta["thinking"]
    elif kind == "signature_delta":
        assert block["type"] == "thinking"
        block["signature"] = delta["signature"]
    elif kind == "input_json_delta":
        assert block["type"] == "tool_use"
        block["_json"] += delta["partial_json"]
    else:
        raise AssertionError(f"unexpected delta {kind}")
