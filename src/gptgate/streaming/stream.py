"""The stream protocol the writers share (the SSE relay now, a WebSocket writer next).

A writer needs two things: an :class:`EventStream` (batches of canonical events, one batch per
upstream read, then ``aclose``) and a :class:`StreamEncoder` (canonical events → the client's
wire bytes). The dispatcher's open stream is one ``EventStream``; nothing here knows it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar, Protocol

from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.types import JSONObject


class EventStream(Protocol):
    def __aiter__(self) -> AsyncIterator[list[Event]]: ...

    async def aclose(self) -> None: ...


class StreamEncoder(Protocol):
    #: what a writer sends while the upstream is silent (an SSE comment, a ping event, ...)
    keepalive: bytes

    def feed(self, events: list[Event]) -> bytes: ...

    def finish(self) -> bytes: ...


Handler = Callable[[Any, JSONObject, list[bytes]], None]
#: what a handler of ``BLIND`` is given for the payload it does not read
_UNREAD: JSONObject = {}


class TableEncoder(ABC):
    """The shared body of the translating encoders (chat, Anthropic, Gemini).

    ``feed`` dispatches each event to the class's handler table (one function per event type;
    events a protocol does not show are skipped), ``finish`` closes a stream that ended with no
    terminal event through the encoder's own ``_on_failed`` with the canonical "ended early"
    failure, and ``_frame`` turns a batch's pieces into bytes (a door with framing overrides it).
    """

    __slots__ = ()
    #: event type -> handler, filled in by each encoder's module once its class exists
    HANDLERS: ClassVar[Mapping[str, Handler]] = {}
    #: the handlers that read nothing of their event's payload: it is not parsed for them (a
    #: ``response.created`` holds the whole response, the upstream's instructions included).
    #: Looked up only for an event ``HANDLERS`` has no handler for: nothing more per delta.
    BLIND: ClassVar[Mapping[str, Handler]] = {}
    keepalive: bytes
    _finished: bool

    def feed(self, events: list[Event]) -> bytes:
        out: list[bytes] = []
        handlers = self.HANDLERS
        for event in events:
            handler = handlers.get(event.type)
            if handler is not None:
                handler(self, event.payload(), out)
            elif (handler := self.BLIND.get(event.type)) is not None:
                handler(self, _UNREAD, out)
        return self._frame(out) if out else b""

    def finish(self) -> bytes:
        """Called when the event stream ended; a stream without a terminal event is an error."""
        if self._finished:
            return b""
        out: list[bytes] = []
        self._on_failed(ev.ENDED_EARLY.data, out)
        return self._frame(out)

    def _frame(self, out: list[bytes]) -> bytes:
        return b"".join(out)

    @abstractmethod
    def _on_failed(self, data: JSONObject, out: list[bytes]) -> None:
        """Render a failure (``response.failed``, ``error``, ended early) in the encoder's protocol."""
