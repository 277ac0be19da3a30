"""Canonical events -> Anthropic Messages SSE (client-apis.md §4.3, §7.4, invariant §8.2).

One content block is open at a time and its ``index`` is its position in the final ``content``.
A block belongs to one upstream item (``_open`` is that item's key); an event of another item
while a block is open is deferred and replayed, in order, when the block closes. That is how
interleaved parallel calls (§7.7 #4) become consecutive ``tool_use`` blocks.

One method per event type, one class-level handler table. The SSE text of a delta is a
precomputed head (event name, index, delta type, serialised once when the block opens) plus one
``orjson.dumps`` of the fragment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import orjson

from gptgate.canonical import events as ev
from gptgate.canonical.failures import error_of_failed
from gptgate.canonical.hosted import citation
from gptgate.canonical.names import NameMap
from gptgate.canonical.response import message_text, reasoning_summary, refusal_text
from gptgate.canonical.response import stop_reason as canonical_stop
from gptgate.protocols.anthropic.decode import Thinking
from gptgate.protocols.anthropic.errors import error_body
from gptgate.protocols.anthropic.response import (
    STOP_REASONS,
    anthropic_usage,
    image_block,
    search_blocks,
    text_citation,
    tool_id,
)
from gptgate.protocols.anthropic.signature import sign
from gptgate.streaming.stream import TableEncoder
from gptgate.types import JSONObject

dumps = orjson.dumps
PING: Final = b'event: ping\ndata: {"type":"ping"}\n\n'
MESSAGE_STOP: Final = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
TAIL: Final = b"}}\n\n"
_BLOCK_STOP: Final = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":%d}\n\n'
_BLOCK_START: Final = (
    b'event: content_block_start\ndata: {"type":"content_block_start","index":%d,"content_block":'
)
_DELTA: Final = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,"delta":'
_TEXT_START: Final = _BLOCK_START + b'{"type":"text","text":""}}\n\n'
_THINKING_START: Final = _BLOCK_START + b'{"type":"thinking","thinking":"","signature":""}}\n\n'
_TEXT_HEAD: Final = _DELTA + b'{"type":"text_delta","text":'
_THINKING_HEAD: Final = _DELTA + b'{"type":"thinking_delta","thinking":'
_JSON_HEAD: Final = _DELTA + b'{"type":"input_json_delta","partial_json":'
_SIGNATURE_HEAD: Final = _DELTA + b'{"type":"signature_delta","signature":'
_CITATION_HEAD: Final = _DELTA + b'{"type":"citations_delta","citation":'
_MESSAGE_START: Final = b'event: message_start\ndata: {"type":"message_start","message":{"id":'
ZERO_USAGE: Final = (
    b'{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}'
)
TEXT, THINKING, TOOL, SERVER = 1, 2, 3, 4

Handler = Callable[["AnthropicStreamEncoder", JSONObject, list[bytes]], None]


class AnthropicStreamEncoder(TableEncoder):
    keepalive = PING
    __slots__ = (
        "_block_text",
        "_deferred",
        "_emitted",
        "_finished",
        "_head",
        "_id",
        "_index",
        "_kind",
        "_model",
        "_names",
        "_open",
        "_request_id",
        "_sent",
        "_signatures",
        "_started",
        "_summaries",
        "_tools",
    )

    def __init__(
        self,
        *,
        message_id: str,
        model: str,
        names: NameMap,
        thinking: Thinking,
        request_id: str | None = None,
    ) -> None:
        self._id = message_id
        self._request_id = request_id
        self._model = model
        self._names = names
        self._summaries = thinking == "shown"
        self._signatures = thinking != "off"
        self._started = False
        self._finished = False
        self._tools = False
        self._index = -1
        self._open: str | None = None  # key of the item whose block is open
        self._kind = 0
        self._head = b""  # delta head of the open block
        self._emitted = False  # the open block has content
        self._sent: set[str] = set()  # items whose blocks had content
        self._deferred: list[tuple[Handler, JSONObject]] = []
        self._block_text: list[str] = []  # the open text block's text (what a citation quotes)

    # -- blocks
    def _start(self, response: JSONObject | None, out: list[bytes]) -> None:
        """``message_start``; its usage is zeros unless ``response.created`` carried some."""
        self._started = True
        usage = dumps(anthropic_usage(response)) if response and response.get("usage") else ZERO_USAGE
        out.append(
            _MESSAGE_START
            + dumps(self._id)
            + b',"type":"message","role":"assistant","model":'
            + dumps(self._model)
            + b',"content":[],"stop_reason":null,"stop_sequence":null,"usage":'
            + usage
            + b"}}\n\n"
        )

    def _next_block(self, key: str, kind: int, out: list[bytes]) -> int:
        """Close whatever is open (without replaying deferred events) and claim the next index."""
        if not self._started:
            self._start(None, out)
        if self._open is not None:
            self._end_block(out)
        self._index += 1
        self._open = key
        self._kind = kind
        self._emitted = False
        return self._index

    def _open_text(self, key: str, out: list[bytes]) -> None:
        index = self._next_block(key, TEXT, out)
        out.append(_TEXT_START % index)
        self._head = _TEXT_HEAD % index
        self._block_text = []

    def _open_thinking(self, key: str, out: list[bytes]) -> None:
        index = self._next_block(key, THINKING, out)
        out.append(_THINKING_START % index)
        self._head = _THINKING_HEAD % index

    def _open_tool(self, key: str, item: JSONObject, out: list[bytes]) -> None:
        index = self._next_block(key, TOOL, out)
        self._tools = True
        name = self._names.client(str(item.get("name") or ""))
        block = {"type": "tool_use", "id": tool_id(item), "name": name, "input": {}}
        out.append(_BLOCK_START % index + dumps(block) + b"}\n\n")
        self._head = _JSON_HEAD % index

    def _delta(self, text: str, out: list[bytes]) -> None:
        self._emitted = True
        out.append(self._head + dumps(text) + TAIL)

    def _end_block(self, out: list[bytes]) -> None:
        out.append(_BLOCK_STOP % self._index)
        if self._emitted and self._open is not None:
            self._sent.add(self._open)
        self._open = None

    def _close(self, out: list[bytes]) -> None:
        """Close the open block, then replay what waited for it."""
        if self._open is None:
            return
        self._end_block(out)
        if self._deferred:
            pending, self._deferred = self._deferred, []
            for handler, data in pending:
                handler(self, data, out)

    def _busy(self, key: str, handler: Handler, data: JSONObject) -> bool:
        """Another item's block is open: keep this event for later."""
        if self._open is None or self._open == key:
            return False
        self._deferred.append((handler, data))
        return True

    # -- handlers: text
    def _on_created(self, data: JSONObject, out: list[bytes]) -> None:
        if not self._started:
            self._start(data.get("response"), out)

    def _on_part_added(self, data: JSONObject, out: list[bytes]) -> None:
        if (data.get("part") or {}).get("type") not in ("output_text", "refusal"):
            return
        key = data.get("item_id") or str(data.get("output_index"))
        if not self._busy(key, AnthropicStreamEncoder._on_part_added, data):
            self._open_text(key, out)

    def _on_text(self, data: JSONObject, out: list[bytes]) -> None:
        delta = data.get("delta")
        if not delta:
            return
        key = data.get("item_id") or str(data.get("output_index"))
        if self._open != key or self._kind != TEXT:
            if self._busy(key, AnthropicStreamEncoder._on_text, data):
                return
            self._open_text(key, out)
        self._emitted = True
        self._block_text.append(delta)
        out.append(self._head + dumps(delta) + TAIL)

    def _on_annotation(self, data: JSONObject, out: list[bytes]) -> None:
        """A citation of the open text block: ``citations_delta`` (offsets into this block)."""
        key = data.get("item_id") or str(data.get("output_index"))
        if self._open != key or self._kind != TEXT:
            self._busy(key, AnthropicStreamEncoder._on_annotation, data)
            return
        found = citation(data.get("annotation") or {})
        if found is not None:
            cited = text_citation(found, "".join(self._block_text))
            out.append(_CITATION_HEAD % self._index + dumps(cited) + TAIL)

    def _on_part_done(self, data: JSONObject, out: list[bytes]) -> None:
        key = data.get("item_id") or str(data.get("output_index"))
        if self._busy(key, AnthropicStreamEncoder._on_part_done, data):
            return
        if self._open == key and self._kind == TEXT:
            self._close(out)

    # -- handlers: thinking
    def _on_summary_part(self, data: JSONObject, out: list[bytes]) -> None:
        if not self._summaries:
            return
        key = data.get("item_id") or str(data.get("output_index"))
        if self._busy(key, AnthropicStreamEncoder._on_summary_part, data):
            return
        if self._open != key:
            self._open_thinking(key, out)
        elif self._emitted and data.get("summary_index", 0) > 0:
            self._delta("\n\n", out)

    def _on_summary(self, data: JSONObject, out: list[bytes]) -> None:
        delta = data.get("delta")
        if not delta or not self._summaries:
            return
        key = data.get("item_id") or str(data.get("output_index"))
        if self._open != key:
            if self._busy(key, AnthropicStreamEncoder._on_summary, data):
                return
            self._open_thinking(key, out)
        self._emitted = True
        out.append(self._head + dumps(delta) + TAIL)

    # -- handlers: tool calls
    def _on_item_added(self, data: JSONObject, out: list[bytes]) -> None:
        item = data.get("item") or {}
        if item.get("type") != "function_call":
            return
        key = item.get("id") or str(data.get("output_index"))
        if not self._busy(key, AnthropicStreamEncoder._on_item_added, data):
            self._open_tool(key, item, out)

    def _on_args(self, data: JSONObject, out: list[bytes]) -> None:
        delta = data.get("delta")
        if not delta:  # an empty fragment is legal and means nothing (§7.7 #2)
            return
        key = data.get("item_id") or str(data.get("output_index"))
        if self._open == key:
            self._emitted = True
            out.append(self._head + dumps(delta) + TAIL)
        else:
            self._busy(key, AnthropicStreamEncoder._on_args, data)

    def _on_args_done(self, data: JSONObject, out: list[bytes]) -> None:
        """Arguments sent only here, not as deltas (§7.7 #1)."""
        key = data.get("item_id") or str(data.get("output_index"))
        if self._open == key:
            if not self._emitted and data.get("arguments"):
                self._delta(data["arguments"], out)
        else:
            self._busy(key, AnthropicStreamEncoder._on_args_done, data)

    # -- handlers: items done
    def _on_item_done(self, data: JSONObject, out: list[bytes]) -> None:
        item = data.get("item") or {}
        done = _ITEM_DONE.get(item.get("type") or "")
        if done is None or (item.get("type") == "reasoning" and not self._signatures):
            return
        key = item.get("id") or str(data.get("output_index"))
        if not self._busy(key, AnthropicStreamEncoder._on_item_done, data):
            done(self, item, key, out)

    def _reasoning_done(self, item: JSONObject, key: str, out: list[bytes]) -> None:
        """The signature is only final here: ``signature_delta`` right before the block stops."""
        if self._open != key:
            self._open_thinking(key, out)
        if self._summaries and not self._emitted and key not in self._sent:
            summary = reasoning_summary(item)
            if summary:
                self._delta(summary, out)
        signature = sign(item.get("id"), item.get("encrypted_content")).encode()  # base64url: no escapes
        out.append(_SIGNATURE_HEAD % self._index + b'"' + signature + b'"' + TAIL)
        self._close(out)

    def _message_done(self, item: JSONObject, key: str, out: list[bytes]) -> None:
        """A message item whose text came with no delta gets it now, once (§7.7 #3)."""
        if key not in self._sent and not (self._open == key and self._emitted):
            text = message_text(item) + refusal_text(item)
            if text:
                if self._open != key:
                    self._open_text(key, out)
                self._delta(text, out)
        if self._open == key:
            self._close(out)

    def _image_done(self, item: JSONObject, key: str, out: list[bytes]) -> None:
        block = image_block(item)
        if block is None:
            return
        out.append(_BLOCK_START % self._next_block(key, SERVER, out) + dumps(block) + b"}\n\n")
        self._emitted = True
        self._close(out)

    def _search_done(self, item: JSONObject, key: str, out: list[bytes]) -> None:
        """``server_tool_use`` (its input as one JSON delta), then ``web_search_tool_result``."""
        use, result = search_blocks(item)
        index = self._next_block(key, SERVER, out)
        out.append(_BLOCK_START % index + dumps({**use, "input": {}}) + b"}\n\n")
        out.append(_JSON_HEAD % index + dumps(dumps(use["input"]).decode()) + TAIL)
        self._emitted = True
        index = self._next_block(key + "/result", SERVER, out)
        out.append(_BLOCK_START % index + dumps(result) + b"}\n\n")
        self._emitted = True
        self._close(out)

    def _call_done(self, item: JSONObject, key: str, out: list[bytes]) -> None:
        if self._open != key:
            if key in self._sent:
                return
            self._open_tool(key, item, out)
        if not self._emitted and item.get("arguments"):
            self._delta(item["arguments"], out)
        self._close(out)

    # -- handlers: the end
    def _on_end(self, data: JSONObject, out: list[bytes]) -> None:
        response = data.get("response") or {}
        while self._open is not None:
            self._close(out)
        if not self._started:
            self._start(None, out)
        reason = (response.get("incomplete_details") or {}).get("reason")
        stop = STOP_REASONS[canonical_stop(response.get("status"), reason, self._tools)]
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": anthropic_usage(response),
        }
        out.append(b"event: message_delta\ndata: " + dumps(delta) + b"\n\n" + MESSAGE_STOP)
        self._finished = True

    def _on_failed(self, data: JSONObject, out: list[bytes]) -> None:
        if data.get("type") == ev.ERROR:
            response: JSONObject = {"error": ev.error_of_event(data)}
        else:
            response = data.get("response") or {}
        if self._open is not None:
            self._end_block(out)
        self._deferred.clear()
        error = error_of_failed(response)
        out.append(b"event: error\ndata: " + dumps(error_body(error, self._request_id)) + b"\n\n")
        self._finished = True


_ITEM_DONE: dict[str, Callable[[AnthropicStreamEncoder, JSONObject, str, list[bytes]], None]] = {
    "reasoning": AnthropicStreamEncoder._reasoning_done,
    "message": AnthropicStreamEncoder._message_done,
    "function_call": AnthropicStreamEncoder._call_done,
    "image_generation_call": AnthropicStreamEncoder._image_done,
    "web_search_call": AnthropicStreamEncoder._search_done,
}

#: One table for every stream (a per-instance dict of bound methods cost memory per open stream).
AnthropicStreamEncoder.HANDLERS = {
    ev.CREATED: AnthropicStreamEncoder._on_created,
    ev.PART_ADDED: AnthropicStreamEncoder._on_part_added,
    ev.TEXT_DELTA: AnthropicStreamEncoder._on_text,
    ev.REFUSAL_DELTA: AnthropicStreamEncoder._on_text,
    ev.PART_DONE: AnthropicStreamEncoder._on_part_done,
    ev.ANNOTATION_ADDED: AnthropicStreamEncoder._on_annotation,
    ev.SUMMARY_PART_ADDED: AnthropicStreamEncoder._on_summary_part,
    ev.SUMMARY_DELTA: AnthropicStreamEncoder._on_summary,
    ev.REASONING_DELTA: AnthropicStreamEncoder._on_summary,
    ev.ITEM_ADDED: AnthropicStreamEncoder._on_item_added,
    ev.ARGS_DELTA: AnthropicStreamEncoder._on_args,
    ev.ARGS_DONE: AnthropicStreamEncoder._on_args_done,
    ev.ITEM_DONE: AnthropicStreamEncoder._on_item_done,
    ev.COMPLETED: AnthropicStreamEncoder._on_end,
    ev.INCOMPLETE: AnthropicStreamEncoder._on_end,
    ev.FAILED: AnthropicStreamEncoder._on_failed,
    ev.ERROR: AnthropicStreamEncoder._on_failed,
}
