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
from gptgate.upstreams.transport import TransportResponse


class StreamDecoder(Protocol):
    terminal: str | None

    def feed(self, data: bytes) -> list[Event]: ...

    def flush(self) -> list[Event]: ...

    def cut(self, code: str, message: str) -> Event: ...


class DecodedStream:
    """One streaming answer (``UpstreamStream``). With ``read_after_end`` the decoder still sees
    bytes after the terminal event (the web backend sends a late title); otherwise they are only
    drained so the connection can be reused."""

    __slots__ = ("_closed", "_log", "_read_after_end", "_resp", "decoder")

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
        self._read_after_end = read_after_end
        self._closed = False

    async def batches(self) -> AsyncIterator[list[Event]]:
        decoder = self.decoder
        drain = not self._read_after_end
        try:
            async for chunk in self._resp.chunks():
                if drain and decoder.terminal is not None:
                    continue
                events = decoder.feed(chunk)
                del chunk  # neither the read nor its events stay referenced while the next one is awaited
                if events:
                    yield events
                del events
            tail = decoder.flush() if decoder.terminal is None else []
        except Exception as exc:  # any transport failure ends the stream in-band
            if decoder.terminal is not None:
                return
            self._log.warning("upstream stream broke: %s", exc.__class__.__name__)
            why = f"upstream stream broke before the response completed ({exc.__class__.__name__})"
            tail = [decoder.cut("stream_disconnected", why)]
        if tail:
            yield tail

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._resp.aclose(self.decoder.terminal is not None)
