"""Canonical events -> Responses SSE (or WebSocket frames): the upstream's own bytes, renumbered
only when needed."""

from __future__ import annotations

from typing import Final

import orjson

from gptgate.canonical.events import Event

KEEPALIVE: Final = b": keep-alive\n\n"


class ResponsesStreamEncoder:
    """Relays each event's upstream bytes untouched; a synthetic event (no ``raw``) is given the
    next ``sequence_number`` so the client still sees a gap-free, strictly +1 sequence."""

    keepalive = KEEPALIVE
    __slots__ = ("_finished", "_seq")

    def __init__(self) -> None:
        self._seq = -1
        self._finished = False

    def feed(self, events: list[Event]) -> bytes:
        out: list[bytes] = []
        for event in events:
            data = event.data
            raw = event.raw
            if raw is None:
                data["sequence_number"] = self._seq + 1
                raw = orjson.dumps(data)
            seq = data.get("sequence_number")
            if isinstance(seq, int):
                self._seq = seq
            out.append(b"event: " + event.type.encode() + b"\ndata: " + raw + b"\n\n")
            if event.type in ("response.completed", "response.incomplete", "response.failed", "error"):
                self._finished = True
        return b"".join(out)

    def finish(self) -> bytes:
        return b""

    def frames(self, events: list[Event]) -> list[bytes]:
        """The same payloads without SSE framing: one WebSocket text frame each."""
        out: list[bytes] = []
        for event in events:
            data = event.data
            raw = event.raw
            if raw is None:
                data["sequence_number"] = self._seq + 1
                raw = orjson.dumps(data)
            seq = data.get("sequence_number")
            if isinstance(seq, int):
                self._seq = seq
            out.append(raw)
            if event.type in ("response.completed", "response.incomplete", "response.failed", "error"):
                self._finished = True
        return out

    def finish_frames(self) -> list[bytes]:
        return []
