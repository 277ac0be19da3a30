"""Web conversation SSE bytes -> canonical events, for both stream formats (§2.1, §2.2).

Each ``data:`` record is one of: ``[DONE]``; the ``"v1"`` marker of delta encoding; a v1
record ``{p, o, v, c}`` that starts (``v`` holding a ``message``) or changes the current
document; an out-of-band record with a ``type`` (stream complete, title, metadata, moderation,
markers: one method each, the rest ignored); or an old-format snapshot ``{message, ...}`` that
holds the whole current state of one message. Both formats end up as "this message now looks
like this": ``_show`` renders it (``render.py``) and sends what was not sent yet, per message id
(no string diffing across messages). ``p`` and ``o`` are sticky: a record with only ``v`` repeats
the last path and op.

The hot path is exempt from re-rendering: while the current document's message renders as
exactly its one string part (``render.plain_parts``) and all of it was sent, an ``append`` of a
string to ``/message/content/parts/0`` is sent as it is, in O(delta). Those appends are kept
aside (``_pending``) and joined into the document once, before any other record reads or
changes it, so a long answer costs O(n), not O(n²).

The stream ends with ``response.completed`` at ``message_stream_complete`` or ``[DONE]`` (the
upstream closed the turn, with or without a finish record), ``response.incomplete`` when the
answer stopped at ``max_tokens`` or was blocked by moderation, ``response.failed`` on an
in-stream error, and on a cut without ``[DONE]``, unless the answer had already finished.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.canonical.tokens import count_text
from gptgate.streaming.sse import SSEDecoder
from gptgate.types import JSONObject
from gptgate.upstreams.chatgpt_web import patch, render
from gptgate.upstreams.chatgpt_web.output import OutputBuilder

loads = orjson.loads
PARTS0 = "/message/content/parts/0"


class WebStreamDecoder:
    """Incremental: ``feed(chunk) -> list[Event]``, ``flush() -> list[Event]`` (as the Codex one)."""

    __slots__ = (
        "_answer",
        "_base",
        "_created_at",
        "_doc",
        "_input_tokens",
        "_link",
        "_links",
        "_model",
        "_op",
        "_out",
        "_parts",
        "_path",
        "_pending",
        "_plain_id",
        "_response_id",
        "_sent",
        "_sse",
        "_started",
        "conversation_id",
        "message_id",
        "model_slug",
        "plan_type",
        "terminal",
        "title",
    )

    def __init__(
        self,
        model: str,
        *,
        input_tokens: int = 0,
        response_id: str | None = None,
        created_at: int | None = None,
        link: Callable[[str, str | None], str] | None = None,
    ) -> None:
        """``link(pointer, conversation_id)``: the URL an image pointer is shown as (made once per
        pointer, so a message's rendering stays the same as it grows)."""
        base = uuid.uuid4().hex[:24]
        self._link = link
        self._links: dict[str, str] = {}
        self._sse = SSEDecoder()
        self._model = model
        self._input_tokens = input_tokens
        self._response_id = response_id or "resp_" + base
        self._created_at = int(time.time()) if created_at is None else created_at
        self._base = base
        self._out = OutputBuilder(base)
        self._started = False
        self._doc: JSONObject = {}
        self._path = ""
        self._op = "append"
        self._sent: dict[str, int] = {}
        #: the fast path's state: the document message's ``parts`` list and id while armed,
        #: and the appends to its ``parts[0]`` not yet joined into the document
        self._parts: list[Any] | None = None
        self._plain_id = ""
        self._pending: list[str] = []
        self._answer: JSONObject | None = None
        self.conversation_id: str | None = None
        self.message_id: str | None = None
        self.model_slug: str | None = None
        self.plan_type: str | None = None
        self.title: str | None = None
        self.terminal: str | None = None

    # -- bytes in ---------------------------------------------------------------------------
    def feed(self, chunk: bytes) -> list[Event]:
        out: list[Event] = []
        for data in self._sse.feed(chunk):
            if self.terminal is None:
                self._record(data, out)
            elif b'"title_generation"' in data:  # the title may follow the end of the turn
                self._late(data)
        return out

    def _late(self, data: bytes) -> None:
        try:
            payload = loads(data)
        except orjson.JSONDecodeError:
            return
        if isinstance(payload, dict) and payload.get("type") == "title_generation":
            self._on_title(payload, [])

    def flush(self) -> list[Event]:
        out: list[Event] = []
        for data in self._sse.flush():
            if self.terminal is None:
                self._record(data, out)
        if self.terminal is None:
            answer = self._answer
            if answer is not None and render.is_finished(answer) and answer.get("end_turn") is True:
                self._finish(out)
            else:
                self._start(out)
                self._out.close(out, "incomplete")
                out.append(self.cut("stream_disconnected", "upstream stream closed before the turn finished"))
        return out

    def _record(self, data: bytes, out: list[Event]) -> None:
        if data == b"[DONE]":
            self._start(out)
            self._finish(out)
            return
        try:
            payload = loads(data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(payload, dict):
            return  # the "v1" marker
        self._start(out)
        if "v" in payload or "o" in payload:
            self._delta(payload, out)
        elif isinstance(payload.get("type"), str):
            handler = _OOB.get(payload["type"])
            if handler is not None:
                handler(self, payload, out)
        elif isinstance(payload.get("message"), dict):
            self._settle()
            self._note_root(payload)
            self._show(payload["message"], out)
        elif payload.get("error"):
            self._error(payload["error"], out)

    # -- v1 documents -----------------------------------------------------------------------
    def _delta(self, payload: JSONObject, out: list[Event]) -> None:
        value = payload.get("v")
        if (
            self._parts is not None
            and type(value) is str
            and payload.get("o", self._op) == "append"
            and payload.get("p", self._path) == PARTS0
        ):
            self._path, self._op = PARTS0, "append"
            self._append(value, out)
            return
        self._settle()
        if (
            "p" not in payload
            and payload.get("o", "add") == "add"
            and isinstance(value, dict)
            and "message" in value
        ):
            self._new_document(value, out)
            return
        if payload.get("p") == "" and payload.get("o") == "add" and isinstance(value, dict):
            self._new_document(value, out)
            return
        path = payload.get("p", "" if payload.get("o") == "patch" else self._path)
        op = payload.get("o", self._op)
        self._path, self._op = str(path), str(op)
        patch.apply(self._doc, self._path, self._op, value)
        message = self._doc.get("message")
        if isinstance(message, dict):
            self._show(message, out)
            self._arm(message)

    def _append(self, text: str, out: list[Event]) -> None:
        """A text delta of the armed message: sent as it is, joined into the document later."""
        if text:
            self._pending.append(text)
            self._out.text_delta(text, out)
            self._sent[self._plain_id] += len(text)

    def _settle(self) -> None:
        """Join the pending appends into the document and disarm (before any other record)."""
        parts, self._parts = self._parts, None
        if parts is not None and self._pending:
            parts[0] = parts[0] + "".join(self._pending)
            self._pending.clear()

    def _arm(self, message: JSONObject) -> None:
        """Arm the fast path when ``message`` renders as its one string part, all of it sent."""
        parts = render.plain_parts(message)
        if parts is not None:
            message_id = str(message.get("id") or "")
            if self._sent.get(message_id) == len(parts[0]):
                self._parts, self._plain_id = parts, message_id

    def _new_document(self, root: JSONObject, out: list[Event]) -> None:
        self._settle()
        self._doc = root
        self._path, self._op = "", "append"
        self._note_root(root)
        if root.get("error"):
            self._error(root["error"], out)
        elif isinstance(root.get("message"), dict):
            self._show(root["message"], out)
            self._arm(root["message"])

    def _note_root(self, root: JSONObject) -> None:
        if isinstance(root.get("conversation_id"), str):
            self.conversation_id = root["conversation_id"]

    # -- one message's state ----------------------------------------------------------------
    def _show(self, message: JSONObject, out: list[Event]) -> None:
        message_id = str(message.get("id") or "")
        thoughts = render.thoughts(message)
        if thoughts is not None:
            self._thoughts(message_id, thoughts, out)
            return
        text = render.visible_text(message, self._pointer_url)
        if render.is_answer(message):
            self._answer = message
            self.message_id = message_id or self.message_id
            slug = render.field(message, "metadata").get("model_slug")
            self.model_slug = slug if isinstance(slug, str) else self.model_slug
        if text is None:
            return
        sent = self._sent.get(message_id)
        if sent is None:
            if not text:
                return
            self._out.text_delta(_separator(self._out.tail()) + text, out)
        elif len(text) > sent:
            self._out.text_delta(text[sent:], out)
        else:
            return
        self._sent[message_id] = len(text)

    def _pointer_url(self, pointer: str) -> str:
        if self._link is None:
            return pointer
        url = self._links.get(pointer)
        if url is None:
            url = self._links[pointer] = self._link(pointer, self.conversation_id)
        return url

    def _thoughts(self, message_id: str, thoughts: list[JSONObject], out: list[Event]) -> None:
        for n, thought in enumerate(thoughts):
            text = render.thought_text(thought)
            key = f"{message_id}#{n}"
            sent = self._sent.get(key)
            if sent is None:
                if not text:
                    continue
                sent = self._sent[key] = 0
                self._out.summary_part(out)
            if len(text) > sent:
                self._out.summary_delta(text[sent:], out)
                self._sent[key] = len(text)

    def _error(self, error: Any, out: list[Event]) -> None:
        message = error if isinstance(error, str) else orjson.dumps(error).decode()
        self._out.close(out, "incomplete")
        out.append(self.cut("upstream_error", message[:500]))

    # -- out-of-band records ----------------------------------------------------------------
    def _on_complete(self, payload: JSONObject, out: list[Event]) -> None:
        self._finish(out)

    def _on_title(self, payload: JSONObject, out: list[Event]) -> None:
        if isinstance(payload.get("title"), str):
            self.title = payload["title"]

    def _on_metadata(self, payload: JSONObject, out: list[Event]) -> None:
        meta = render.field(payload, "metadata")
        if isinstance(meta.get("model_slug"), str):
            self.model_slug = meta["model_slug"]
        if isinstance(meta.get("plan_type"), str):
            self.plan_type = meta["plan_type"]

    def _on_moderation(self, payload: JSONObject, out: list[Event]) -> None:
        result = payload.get("moderation_response") or {}
        if result.get("blocked"):
            self._finish(out, blocked=True)

    def _on_resume(self, payload: JSONObject, out: list[Event]) -> None:
        self._note_root(payload)

    # -- the end ----------------------------------------------------------------------------
    def _start(self, out: list[Event]) -> None:
        if not self._started:
            self._started = True
            response = self._response("in_progress")
            out.append(Event(ev.CREATED, {"type": ev.CREATED, "response": response}))
            out.append(Event(ev.IN_PROGRESS, {"type": ev.IN_PROGRESS, "response": response}))

    def _response(self, status: str) -> JSONObject:
        return {
            "id": self._response_id,
            "object": "response",
            "created_at": self._created_at,
            "status": status,
            "error": None,
            "incomplete_details": None,
            "model": self._model,
            "output": [],
            "usage": None,
        }

    def _finish(self, out: list[Event], blocked: bool = False) -> None:
        answer = self._answer
        length = answer is not None and render.finish_type(answer) == "max_tokens"
        self._out.close(out, "incomplete" if blocked or length else "completed")
        response = self._response("incomplete" if blocked or length else "completed")
        if blocked or length:
            reason = "content_filter" if blocked else "max_output_tokens"
            response["incomplete_details"] = {"reason": reason}
        response["output"] = self._out.items
        response["usage"] = self._usage()
        response["metadata"] = self._metadata()
        kind = ev.INCOMPLETE if blocked or length else ev.COMPLETED
        self.terminal = kind
        out.append(Event(kind, {"type": kind, "response": response}))

    def _usage(self) -> JSONObject:
        """The web backend counts nothing for us: local o200k counts of what was shown."""
        text = reasoning = 0
        for item in self._out.items:
            if item["type"] == "message":
                text += count_text(item["content"][0]["text"])
            else:
                reasoning += sum(count_text(s["text"]) for s in item["summary"])
        return {
            "input_tokens": self._input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": text + reasoning,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": self._input_tokens + text + reasoning,
        }

    def _metadata(self) -> dict[str, str]:
        """Where the turn lives upstream (a follow-up turn needs both ids)."""
        found = {
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "model_slug": self.model_slug,
            "title": self.title,
        }
        return {k: v for k, v in found.items() if v is not None}

    def cut(self, code: str, message: str) -> Event:
        """The synthetic failure for a stream that ended (or broke) before the turn finished."""
        self.terminal = ev.FAILED
        return ev.failure(self._response_id, code, message, model=self._model)


def _separator(text: str) -> str:
    """What goes between the visible text of two messages: a blank line."""
    if not text or text.endswith("\n\n"):
        return ""
    return "\n" if text.endswith("\n") else "\n\n"


_OOB: dict[str, Callable[[WebStreamDecoder, JSONObject, list[Event]], None]] = {
    "message_stream_complete": WebStreamDecoder._on_complete,
    "title_generation": WebStreamDecoder._on_title,
    "server_ste_metadata": WebStreamDecoder._on_metadata,
    "moderation": WebStreamDecoder._on_moderation,
    "resume_conversation_token": WebStreamDecoder._on_resume,
}
