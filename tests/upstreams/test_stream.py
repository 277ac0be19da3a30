"""DecodedStream: transport reads in, batches of canonical events out; failures end in-band."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping

import pytest

from gptgate.canonical.events import Event
from gptgate.upstreams.codex.decode import CodexStreamDecoder
from gptgate.upstreams.stream import DecodedStream

CREATED = b'data: {"type":"response.created","response":{"id":"resp_1"}}\n\n'
DELTA = b'data: {"type":"response.output_text.delta","item_id":"msg_1","delta":"hi"}\n\n'
DONE = b'data: {"type":"response.completed","response":{"id":"resp_1","status":"completed"}}\n\n'


class Reads:
    """A transport response whose body is ``reads``, then ``error`` (raised) if given."""

    def __init__(self, reads: list[bytes], error: Exception | None = None) -> None:
        self.reads, self.error = reads, error
        self.closed: bool | None = None

    @property
    def status(self) -> int:
        return 200

    @property
    def headers(self) -> Mapping[str, str]:
        return {}

    async def read(self) -> bytes:
        return b"".join(self.reads)

    def chunks(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        for read in self.reads:
            yield read
        if self.error is not None:
            raise self.error

    async def aclose(self, complete: bool) -> None:
        self.closed = complete

    def forget_headers(self) -> None:
        return None


def stream_of(reads: Reads) -> DecodedStream:
    return DecodedStream(reads, CodexStreamDecoder("gpt-5.5"), logging.getLogger("test"))


async def types_of(stream: DecodedStream) -> list[list[str]]:
    return [[e.type for e in batch] async for batch in stream.batches()]


async def test_one_batch_per_read_that_completes_an_event() -> None:
    reads = Reads([CREATED + DELTA[:20], DELTA[20:], b"", DONE])
    stream = stream_of(reads)
    assert await types_of(stream) == [
        ["response.created"],
        ["response.output_text.delta"],
        ["response.completed"],
    ]
    await stream.aclose()
    assert reads.closed is True  # complete: the connection goes back to the pool


async def test_bytes_after_the_terminal_event_are_drained_not_decoded() -> None:
    stream = stream_of(Reads([CREATED + DONE, DELTA, DELTA]))
    assert await types_of(stream) == [["response.created", "response.completed"]]


@pytest.mark.parametrize("error", [ConnectionResetError("reset"), TimeoutError()])
async def test_a_transport_failure_ends_the_stream_in_band(error: Exception) -> None:
    stream = stream_of(Reads([CREATED, DELTA], error))
    batches = [batch async for batch in stream.batches()]
    assert [[e.type for e in b] for b in batches] == [
        ["response.created"],
        ["response.output_text.delta"],
        ["response.failed"],
    ]
    failed: Event = batches[-1][0]
    assert failed.data["response"]["error"]["code"] == "stream_disconnected"
    await stream.aclose()


async def test_a_failure_after_the_terminal_event_is_not_reported() -> None:
    stream = stream_of(Reads([CREATED, DONE], ConnectionResetError("late")))
    assert await types_of(stream) == [["response.created"], ["response.completed"]]


async def test_an_end_without_a_terminal_event_gets_the_decoders_flush() -> None:
    stream = stream_of(Reads([CREATED, DELTA]))
    batches = await types_of(stream)
    assert batches[:2] == [["response.created"], ["response.output_text.delta"]]
    assert len(batches) == 3 and batches[2][-1] in ("response.failed", "response.incomplete")
    iterator = stream.batches()  # a finished iterator stays finished
    async for _ in iterator:
        pass
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()
