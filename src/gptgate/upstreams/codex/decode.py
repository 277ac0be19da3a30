"""Codex SSE bytes -> canonical events (the Codex stream already is the canonical shape).

Codex writes each payload with its ``type`` first (``{"type":"response.output_text.delta",…``),
so the event type is read off the bytes and the payload is left to be parsed when a door reads
it (a lazy :class:`~gptgate.canonical.events.Event`): the Responses pass-through relays the
bytes and parses nothing, a translating door parses only the events it shows. A record whose
type is not at the front, or is one gptgate does not know, is parsed at once, as before.
"""

from __future__ import annotations

from typing import Final

import orjson

from gptgate.canonical import events as ev
from gptgate.canonical.events import Event, lazy
from gptgate.streaming.sse import SSEDecoder

loads = orjson.loads
#: a record's front as Codex writes it, up to the type's closing quote -> the canonical type
#: string (one shared str per type). A record is looked up by its bytes up to the first quote
#: after ``{"type":"``; only a record that starts with one of these keys can equal it, so one
#: ``find`` and one lookup stand for "starts with the prefix, and the type is known".
FRONTS: Final = {b'{"type":"' + t.encode() + b'"': t for t in ev.KNOWN}
#: the types the decoder marks: the created response (its id) and the terminal ones
MARKS: Final = ev.TERMINAL | {ev.CREATED}


class CodexStreamDecoder:
    """Incremental: ``feed(chunk) -> list[Event]``, ``flush() -> list[Event]``.

    Unparsable records are skipped (as Codex's own parser does); unknown event types pass
    through untouched. ``flush`` at end of stream turns a missing terminal event into a
    synthetic ``response.failed`` so every consumer sees a definite end.
    """

    __slots__ = ("_model", "_response_id", "_sse", "terminal")

    def __init__(self, model: str | None = None) -> None:
        self._sse = SSEDecoder()
        #: what a cut names: the created response's id and the model asked for (the created
        #: event itself is not kept: once a door has read it, it holds the whole parsed
        #: response, Codex's instructions included, for the stream's lifetime)
        self._response_id: str | None = None
        self._model = model
        self.terminal: str | None = None

    def feed(self, chunk: bytes) -> list[Event]:
        return self._decode(self._sse.feed(chunk))

    def payload(self, data: bytes) -> list[Event]:
        """One event's JSON without SSE framing (a WebSocket frame)."""
        return self._decode([data])

    def _decode(self, records: list[bytes]) -> list[Event]:
        out: list[Event] = []
        append = out.append
        fronts, marks = FRONTS, MARKS
        for data in records:
            t = fronts.get(data[: data.find(b'"', 9) + 1])  # find's -1: an empty key, never found
            if t is None:
                event = self._parsed(data)
                if event is None:
                    continue
                append(event)
                continue
            append(lazy(t, data))
            if t in marks:  # one lookup for the many events that are neither
                if t is ev.CREATED:
                    self._response_id = _response_id(data)
                else:
                    self.terminal = t
        return out

    def _parsed(self, data: bytes) -> Event | None:
        """A record parsed now: its type is not at the front, or not one gptgate knows."""
        try:
            payload = loads(data)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(payload, dict):
            return None
        t = payload.get("type")
        if not isinstance(t, str):
            return None
        event = Event(t, payload, data)
        if t in ev.TERMINAL:
            self.terminal = t
        elif t == ev.CREATED:
            response = payload.get("response")
            if isinstance(response, dict) and isinstance(response.get("id"), str):
                self._response_id = response["id"]
        return event

    def flush(self) -> list[Event]:
        out = [e for d in self._sse.flush() if (e := self._parsed(d)) is not None]
        if self.terminal is None:
            out.append(self.cut("stream_disconnected", "upstream stream closed before response.completed"))
        return out

    def cut(self, code: str, message: str) -> Event:
        """The synthetic failure for a stream that ended (or broke) without a terminal event."""
        self.terminal = ev.FAILED
        return ev.failure(self._response_id, code, message, model=self._model)


_ID: Final = b'"response":{"id":"'
_ID_LEN: Final = len(_ID)


def _response_id(data: bytes) -> str | None:
    """The created response's id: Codex writes it first (``"response":{"id":"resp_…"``); any
    other layout is parsed."""
    start = data.find(_ID)
    if start >= 0:
        start += _ID_LEN
        end = data.find(b'"', start)
        if end > start and b"\\" not in (quoted := data[start:end]):
            return quoted.decode()
    response = Event(ev.CREATED, None, data).data.get("response")
    found = response.get("id") if isinstance(response, dict) else None
    return found if isinstance(found, str) else None
