"""An upstream's HTTP answer read through its incremental decoder: the shape both upstreams share.

Each transport chunk (one upstream read) becomes one batch of canonical events. A transport
failure after the first byte ends the stream in-band with the decoder's synthetic failure, never
an exception; a stream that ends without a terminal event gets the decoder's ``flush``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Protocol

from gptgate.canonical.events import Event
from gptgate.upstreams.transport import TransportResponse, reader


class StreamDecoder(Protocol):
    terminal: str | None

    def feed(self, data: bytes) -> list[Event]: ...

    def flush(self) -> list[Event]: ...

    def cut(self, code: str, message: str) -> Event: ...


class DecodedStream:
    """One streaming answer (``UpstreamStream``). With ``read_after_end`` the decoder still sees
    bytes after the terminal event (the web backend sends a late title); otherwise they are only
    drained so the connection can be reused.

    Its batches, one per transport read that completed an event, are read from the stream
    itself: an iterator, not an async generator (no generator object and no event-loop hooks
    per stream, and nothing of a read held while the next one is awaited), and no object of
    its own either: a body is read once."""

    __slots__ = ("_closed", "_done", "_drain", "_log", "_read", "_resp", "decoder")

    def __init__(
        self,
        resp: TransportResponse,
        decoder: StreamDecoder,
        log: logging.Logger,
        *,
        read_after_end: bool = False,
    ) -> None:
        self._resp = resp
        self.decoder = decoder
        self._log = log
        self._read = reader(resp)
        self._drain = not read_after_end
        self._done = False
        self._closed = False

    def batches(self) -> AsyncIterator[list[Event]]:
        return self

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._resp.aclose(self.decoder.terminal is not None)

    def __aiter__(self) -> DecodedStream:
        return self

    async def __anext__(self) -> list[Event]:
        if self._done:
            raise StopAsyncIteration
        decoder = self.decoder
        try:
            read = self._read
            while chunk := await read():
                if self._drain and decoder.terminal is not None:
                    continue  # the answer is complete: the rest is only drained
                events = decoder.feed(chunk)
                if events:
                    return events
            tail = decoder.flush() if decoder.terminal is None else []
        except Exception as exc:  # any transport failure ends the stream in-band
            tail = [] if decoder.terminal is not None else [self._cut(decoder, exc)]
        self._done = True
        if tail:
            return tail
        raise StopAsyncIteration

    def _cut(self, decoder: StreamDecoder, exc: Exception) -> Event:
        self._log.warning("upstream stream broke: %s", exc.__class__.__name__)
        why = f"upstream stream broke before the response completed ({exc.__class__.__name__})"
        return decoder.cut("stream_disconnected", why)
