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
from gptgate.canonical.events import Event
from gptgate.streaming.sse import SSEDecoder

loads = orjson.loads
PREFIX: Final = b'{"type":"'
#: the type bytes Codex writes -> the canonical type string (one shared str per type)
TYPES: Final = {t.encode(): t for t in ev.KNOWN}


class CodexStreamDecoder:
    """Incremental: ``feed(chunk) -> list[Event]``, ``flush() -> list[Event]``.

    Unparsable records are skipped (as Codex's own parser does); unknown event types pass
    through untouched. ``flush`` at end of stream turns a missing terminal event into a
    synthetic ``response.failed`` so every consumer sees a definite end.
    """

    __slots__ = ("_created", "_sse", "terminal")

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        #: the ``response.created`` payload's bytes, read only if the stream must be cut (the
        #: event itself is not kept: once a door has read it, it holds the parsed response)
        self._created: bytes | None = None
        self.terminal: str | None = None

    def feed(self, chunk: bytes) -> list[Event]:
        return self._decode(self._sse.feed(chunk))

    def payload(self, data: bytes) -> list[Event]:
        """One event's JSON without SSE framing (a WebSocket frame)."""
        return self._decode([data])

    def _decode(self, records: list[bytes]) -> list[Event]:
        out: list[Event] = []
        types = TYPES
        for data in records:
            t = types.get(data[9 : data.find(b'"', 9)]) if data.startswith(PREFIX) else None
            if t is None:
                event = self._parsed(data)
                if event is None:
                    continue
            else:
                event = Event(t, None, data)
                if t in ev.TERMINAL:
                    self.terminal = t
                elif t == ev.CREATED:
                    self._created = data
            out.append(event)
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
            self._created = data
        return event

    def flush(self) -> list[Event]:
        out = [e for d in self._sse.flush() if (e := self._parsed(d)) is not None]
        if self.terminal is None:
            out.append(self.cut("stream_disconnected", "upstream stream closed before response.completed"))
        return out

    def cut(self, code: str, message: str) -> Event:
        """The synthetic failure for a stream that ended (or broke) without a terminal event."""
        self.terminal = ev.FAILED
        created = Event(ev.CREATED, None, self._created).data if self._created is not None else {}
        response = created.get("response")
        if not isinstance(response, dict):
            response = {}
        return ev.failure(response.get("id"), code, message, model=response.get("model"))
