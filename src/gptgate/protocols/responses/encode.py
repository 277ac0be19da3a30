"""Canonical events -> Responses SSE (or WebSocket frames): the upstream's own bytes, renumbered
only when needed."""

from __future__ import annotations

from typing import Final

import orjson

from gptgate.canonical.events import Event

KEEPALIVE: Final = b": keep-alive\n\n"
#: the SSE head of each event type, made once: ``event: <type>\ndata: ``
_HEADS: dict[str, bytes] = {}


def _head(event_type: str) -> bytes:
    head = _HEADS.get(event_type)
    if head is None:
        head = b"event: " + event_type.encode() + b"\ndata: "
        if len(_HEADS) < 256:  # types an upstream makes up are framed, not kept
            _HEADS[event_type] = head
    return head


class ResponsesStreamEncoder:
    """Relays each event's upstream bytes untouched (their payloads are never parsed); a
    synthetic event (no ``raw``) is given the next ``sequence_number`` so the client still sees
    a gap-free, strictly +1 sequence. The number it follows is read from the last relayed event
    only then."""

    keepalive = KEEPALIVE
    __slots__ = ("_last", "_seq")

    def __init__(self) -> None:
        self._seq = -1
        self._last: Event | None = None  # the last relayed event, whose number a synthetic one follows

    def _synthetic(self, event: Event) -> bytes:
        """A synthetic event's payload, numbered after the last relayed one."""
        last, self._last = self._last, None
        if last is not None:
            seq = last.payload().get("sequence_number")
            if isinstance(seq, int):
                self._seq = seq
        data = event.payload()
        self._seq += 1
        data["sequence_number"] = self._seq
        return orjson.dumps(data)

    def feed(self, events: list[Event]) -> bytes:
        # the relayed event a synthetic one would follow is noted once per batch, not per event
        out: list[bytes] = []
        heads = _HEADS
        last = None
        for event in events:
            raw = event.raw
            if raw is None:
                if last is not None:
                    self._last = last
                    last = None
                raw = self._synthetic(event)
            else:
                last = event
            t = event.type
            out += (heads.get(t) or _head(t), raw, b"\n\n")
        if last is not None:
            self._last = last
        return b"".join(out)

    def finish(self) -> bytes:
        return b""

    def frames(self, events: list[Event]) -> list[bytes]:
        """The same payloads without SSE framing: one WebSocket text frame each."""
        out: list[bytes] = []
        for event in events:
            raw = event.raw
            if raw is None:
                out.append(self._synthetic(event))
            else:
                self._last = event
                out.append(raw)
        return out

    def finish_frames(self) -> list[bytes]:
        return []
