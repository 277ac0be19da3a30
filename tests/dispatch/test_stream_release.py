"""An open stream waiting for its next upstream read holds none of the events it already gave.

Idle streams are the gateway's memory: a batch kept alive by a suspended frame (the held
preamble with its whole ``response.created`` object, the last delta) costs every open stream
its bytes and parsed payloads. Each test makes an event it can watch with a weak reference,
lets the stream pass it on, then parks the stream on its next read and checks the event is gone.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref
from collections.abc import AsyncIterator, Mapping

from gptgate.accounts.model import Account
from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.dispatch.context import CallContext
from gptgate.dispatch.dispatcher import OpenStream
from gptgate.upstreams.stream import DecodedStream


class Watched(Event):
    """An event a weak reference can follow (``Event`` itself has slots and no weakref)."""


def watched(type_: str) -> Watched:
    return Watched(type_, {"type": type_})


class Upstream:
    """An upstream stream that gives its batches, then waits on ``gate`` before the terminal one."""

    def __init__(self, batches: list[list[Event]], gate: asyncio.Event) -> None:
        self._batches = batches
        self.gate = gate
        self.closed = False

    async def batches(self) -> AsyncIterator[list[Event]]:
        while self._batches:
            yield self._batches.pop(0)
        await self.gate.wait()
        yield [Event(ev.COMPLETED, {"type": ev.COMPLETED, "response": {"status": "completed"}})]

    async def aclose(self) -> None:
        self.closed = True


async def parked_after(stream: AsyncIterator[list[Event]], batches: int) -> asyncio.Task[list[Event]]:
    """Take ``batches`` batches and drop them, then start the next read (left waiting)."""
    for _ in range(batches):
        await anext(stream)
    nxt = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)  # the read is now suspended on the upstream
    await asyncio.sleep(0)
    assert not nxt.done()
    gc.collect()
    return nxt


async def test_held_first_events_are_released_once_relayed() -> None:
    created, added = watched(ev.CREATED), watched("response.output_item.added")
    refs = [weakref.ref(created), weakref.ref(added)]
    gate = asyncio.Event()
    upstream = Upstream([], gate)
    call = CallContext(request_id="req_test")
    opened = OpenStream(upstream, upstream.batches(), [created, added], Account("tok"), None, call)
    del created, added
    stream = aiter(opened)

    nxt = await parked_after(stream, 1)

    assert [ref() for ref in refs] == [None, None]
    assert opened.first == []
    gate.set()
    assert [e.type for e in await nxt] == [ev.COMPLETED]
    assert call.terminal == {"type": ev.COMPLETED, "response": {"status": "completed"}}


async def test_the_last_batch_is_not_kept_while_the_next_read_waits() -> None:
    delta = watched("response.output_text.delta")
    ref = weakref.ref(delta)
    gate = asyncio.Event()
    upstream = Upstream([[delta]], gate)
    opened = OpenStream(upstream, upstream.batches(), [], Account("tok"), None, CallContext(request_id="r"))
    del delta
    stream = aiter(opened)

    nxt = await parked_after(stream, 1)

    assert ref() is None
    gate.set()
    await nxt


class Response:
    """A transport response: the chunks it was given, then one more after ``gate``."""

    status = 200
    headers: Mapping[str, str] = {}

    def __init__(self, chunks: list[bytes], gate: asyncio.Event) -> None:
        self._chunks = chunks
        self.gate = gate

    async def read(self) -> bytes:
        return b""

    async def chunks(self) -> AsyncIterator[bytes]:
        while self._chunks:
            yield self._chunks.pop(0)
        await self.gate.wait()
        yield b"end"

    async def aclose(self, complete: bool) -> None:
        return None


class Decoder:
    """Each chunk becomes one watched event; ``end`` the terminal one."""

    def __init__(self) -> None:
        self.terminal: str | None = None
        self.made: list[weakref.ref[Watched]] = []

    def feed(self, data: bytes) -> list[Event]:
        if data == b"end":
            self.terminal = ev.COMPLETED
            return [Event(ev.COMPLETED, {"type": ev.COMPLETED})]
        event = watched(data.decode())
        self.made.append(weakref.ref(event))
        return [event]

    def flush(self) -> list[Event]:
        return []

    def cut(self, code: str, message: str) -> Event:
        raise AssertionError("not cut")


async def test_decoded_stream_keeps_neither_the_read_nor_its_events() -> None:
    gate = asyncio.Event()
    decoder = Decoder()
    stream = DecodedStream(Response([b"response.created"], gate), decoder, logging.getLogger("test"))
    batches = stream.batches()

    nxt = await parked_after(batches, 1)

    assert [ref() for ref in decoder.made] == [None]
    gate.set()
    assert [e.type for e in await nxt] == [ev.COMPLETED]
