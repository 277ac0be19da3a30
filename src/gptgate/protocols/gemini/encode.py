"""Canonical events -> ``streamGenerateContent`` chunks (client-apis.md §5.3, §7.6, invariant §8.4).

Two framings of the same chunks: ``alt=sse`` gives ``data: <chunk>\\r\\n\\r\\n`` records, and
without it the reply is one JSON array streamed element by element (``[{…}\\n,{…}\\n]``). Every
chunk is a whole ``GenerateContentResponse``, parseable alone.

One method per event type. The constant head and tail of a chunk (``candidates`` wrapper,
``modelVersion``, ``responseId``, framing) are serialised once per stream; a text delta then
costs one ``orjson.dumps`` of the delta string.

Keep-alives must not break the clients' parsers. google-genai (Python) feeds any line that does
not start with ``data: `` to a JSON reader, so an SSE comment (``: keep-alive``) raises in the
client; the JS and Dart SDKs match ``^data: `` at the head of their buffer and would stall on
it. The SSE keep-alive is therefore a valid chunk with an empty text part. In the JSON array,
whitespace between elements is valid JSON, so the keep-alive is a newline.
"""

from __future__ import annotations

from typing import Final

import orjson

from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.canonical.failures import error_of_failed
from gptgate.canonical.names import NameMap
from gptgate.canonical.response import message_text, stop_reason
from gptgate.protocols.gemini import signature
from gptgate.protocols.gemini.errors import error_body
from gptgate.protocols.gemini.response import FINISH, Grounding, function_call, inline_image, usage_metadata
from gptgate.streaming.stream import TableEncoder
from gptgate.types import JSONObject

dumps = orjson.dumps
OPEN: Final = b'{"candidates":[{"content":{"role":"model","parts":['
TEXT: Final = b'{"text":'
EMPTY_TEXT: Final = b'{"text":""'
THOUGHT_END: Final = b',"thought":true}'
SIGNATURE: Final = b',"thoughtSignature":'
ARRAY_KEEPALIVE: Final = b"\n"


class GeminiStreamEncoder(TableEncoder):
    __slots__ = (
        "_calls",
        "_close",
        "_end",
        "_finished",
        "_frame_end",
        "_frame_start",
        "_grounding",
        "_head",
        "_lead",
        "_meta",
        "_names",
        "_pending",
        "_sep",
        "_text_sent",
        "_text_tail",
        "_thoughts",
        "keepalive",
    )

    def __init__(
        self, *, response_id: str, model: str, include_thoughts: bool, names: NameMap, sse: bool
    ) -> None:
        meta = dumps({"modelVersion": model, "responseId": response_id})[1:]
        self._frame_start = b"data: " if sse else b""
        self._frame_end = b"\r\n\r\n" if sse else b"\n"
        self._meta = meta + self._frame_end  # '"modelVersion":…,"responseId":…}' + framing
        self._head = self._frame_start + OPEN
        self._close = b']},"index":0}],' + self._meta
        self._text_tail = b"}" + self._close
        # array framing: "[" before the first element, "," between elements, "]" after the last
        self._lead = b"" if sse else b"["
        self._sep = b"" if sse else b","
        self._end = b"" if sse else b"]"
        self.keepalive = self._head + EMPTY_TEXT + self._text_tail if sse else ARRAY_KEEPALIVE
        self._thoughts = include_thoughts
        self._names = names
        self._pending: str | None = None  # a reasoning signature waiting for the next part
        self._text_sent: set[str] = set()
        self._calls = 0
        self._finished = False
        self._grounding: Grounding | None = None  # made by the first search or cited message

    def feed(self, events: list[Event]) -> bytes:
        return b"" if self._finished else TableEncoder.feed(self, events)

    def _frame(self, out: list[bytes]) -> bytes:
        if not out:
            return b""
        data = self._lead + self._sep.join(out)
        self._lead = self._sep
        return data + self._end if self._finished else data

    # -- chunk builders
    def _text(self, text: str, out: list[bytes]) -> None:
        if self._pending is None:
            out.append(self._head + TEXT + dumps(text) + self._text_tail)
        else:
            out.append(self._head + TEXT + dumps(text) + self._take_signature() + self._text_tail)

    def _take_signature(self) -> bytes:
        sig, self._pending = self._pending, None
        return SIGNATURE + dumps(sig)

    # -- handlers
    def _on_text(self, data: JSONObject, out: list[bytes]) -> None:
        delta = data.get("delta")
        if delta:
            self._text_sent.add(data.get("item_id") or "")
            self._text(delta, out)

    def _on_thought(self, data: JSONObject, out: list[bytes]) -> None:
        delta = data.get("delta")
        if delta and self._thoughts:
            out.append(self._head + TEXT + dumps(delta) + THOUGHT_END + self._close)

    def _on_summary_part(self, data: JSONObject, out: list[bytes]) -> None:
        if data.get("summary_index", 0) > 0:
            self._on_thought({"delta": "\n\n"}, out)

    def _on_item_done(self, data: JSONObject, out: list[bytes]) -> None:
        item = data.get("item") or {}
        kind = item.get("type")
        if kind == "function_call":
            self._on_call(item, out)
        elif kind == "reasoning":
            self._on_reasoning(item, out)
        elif kind == "message" and (item.get("id") or "") not in self._text_sent:
            text = message_text(item)  # an upstream that sent no deltas for this message
            if text:
                self._text(text, out)
        elif (part := inline_image(item)) is not None:
            if self._pending is not None:
                part["thoughtSignature"], self._pending = self._pending, None
            out.append(self._head + dumps(part) + self._close)
        if kind in ("message", "web_search_call") and (self._grounding is not None or _cites(item)):
            if self._grounding is None:
                self._grounding = Grounding()
            self._grounding.add(item)

    def _on_call(self, item: JSONObject, out: list[bytes]) -> None:
        """The whole call at ``output_item.done``: Gemini never streams partial arguments."""
        self._calls += 1
        part: JSONObject = {"functionCall": function_call(item, self._names)}
        if self._pending is not None:
            part["thoughtSignature"], self._pending = self._pending, None
        out.append(self._head + dumps(part) + self._close)

    def _on_reasoning(self, item: JSONObject, out: list[bytes]) -> None:
        encrypted = item.get("encrypted_content")
        if not encrypted:
            return
        if self._pending is not None:  # two reasoning items in a row: the first keeps its own part
            out.append(self._head + EMPTY_TEXT + self._take_signature() + self._text_tail)
        self._pending = signature.encode(encrypted)

    def _on_end(self, data: JSONObject, out: list[bytes]) -> None:
        response = data.get("response") or {}
        reason = (response.get("incomplete_details") or {}).get("reason")
        finish = FINISH[stop_reason(response.get("status"), reason, self._calls > 0)]
        part = EMPTY_TEXT + (self._take_signature() if self._pending is not None else b"") + b"}"
        out.append(
            self._head
            + part
            + b']},"finishReason":"'
            + finish.encode()
            + b'","index":0'
            + self._grounding_field()
            + b'}],"usageMetadata":'
            + dumps(usage_metadata(response))
            + b","
            + self._meta
        )
        self._finished = True

    def _grounding_field(self) -> bytes:
        meta = self._grounding.metadata() if self._grounding is not None else None
        return b"" if meta is None else b',"groundingMetadata":' + dumps(meta)

    def _on_failed(self, data: JSONObject, out: list[bytes]) -> None:
        """Google's own in-stream failure: a chunk that is only ``{"error": {...}}``."""
        if data.get("type") == ev.ERROR:
            response: JSONObject = {"error": ev.error_of_event(data)}
        else:
            response = data.get("response") or {}
        body = dumps(error_body(error_of_failed(response)))
        out.append(self._frame_start + body + self._frame_end)
        self._finished = True


def _cites(item: JSONObject) -> bool:
    """A search call, or a message with at least one annotation."""
    if item.get("type") == "web_search_call":
        return True
    return any(part.get("annotations") for part in item.get("content") or ())


#: One table for every stream (a per-instance dict of bound methods costs memory per stream).
GeminiStreamEncoder.HANDLERS = {
    ev.TEXT_DELTA: GeminiStreamEncoder._on_text,
    ev.REFUSAL_DELTA: GeminiStreamEncoder._on_text,
    ev.SUMMARY_DELTA: GeminiStreamEncoder._on_thought,
    ev.REASONING_DELTA: GeminiStreamEncoder._on_thought,
    ev.SUMMARY_PART_ADDED: GeminiStreamEncoder._on_summary_part,
    ev.ITEM_DONE: GeminiStreamEncoder._on_item_done,
    ev.COMPLETED: GeminiStreamEncoder._on_end,
    ev.INCOMPLETE: GeminiStreamEncoder._on_end,
    ev.FAILED: GeminiStreamEncoder._on_failed,
    ev.ERROR: GeminiStreamEncoder._on_failed,
}
