"""Codex SSE bytes -> canonical events (the Codex stream already is the canonical shape)."""

from __future__ import annotations

import orjson

from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.streaming.sse import SSEDecoder

loads = orjson.loads


class CodexStreamDecoder:
    """Incremental: ``feed(chunk) -> list[Event]``, ``flush() -> list[Event]``.

    Unparsable records are skipped (as Codex's own parser does); unknown event types pass
    through untouched. ``flush`` at end of stream turns a missing terminal event into a
    synthetic ``response.failed`` so every consumer sees a definite end.
    """

    __slots__ = ("_model", "_response_id", "_sse", "terminal")

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self._response_id: str | None = None
        self._model: str | None = None
        self.terminal: str | None = None

    def feed(self, chunk: bytes) -> list[Event]:
        out: list[Event] = []
        for data in self._sse.feed(chunk):
            event = self._event(data)
            if event is not None:
                out.append(event)
        return out

    def payload(self, data: bytes) -> list[Event]:
        """One event's JSON without SSE framing (a WebSocket frame)."""
        event = self._event(data)
        return [] if event is None else [event]

    def _event(self, data: bytes) -> Event | None:
        try:
            payload = loads(data)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(payload, dict):
            return None
        t = payload.get("type")
        if not isinstance(t, str):
            return None
        if t in ev.TERMINAL:
            self.terminal = t
        elif t == ev.CREATED:
            response = payload.get("response") or {}
            self._response_id = response.get("id")
            self._model = response.get("model")
        return Event(t, payload, data)

    def flush(self) -> list[Event]:
        out = [e for d in self._sse.flush() if (e := self._event(d)) is not None]
        if self.terminal is None:
            out.append(self.cut("stream_disconnected", "upstream stream closed before response.completed"))
        return out

    def cut(self, code: str, message: str) -> Event:
        """The synthetic failure for a stream that ended (or broke) without a terminal event."""
        self.terminal = ev.FAILED
        return ev.failure(self._response_id, code, message, model=self._model)
