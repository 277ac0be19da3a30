"""One attempt's first-event deadline (``Deadlines``: one timer for every attempt) cancels the
attempt. When it fires the attempt is an ``UpstreamTimeout`` and the opened upstream stream is
closed; a cancellation that is not the deadline's (the client left) stays a cancellation, and a
stream that answered in time leaves no deadline and no pending cancellation. Deadlines here are
0 s (they fire on the next loop turn) or an hour (they never fire): nothing is timed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.accounts.pool import AccountPool
from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext
from gptgate.dispatch.dispatcher import Dispatcher, OpenStream

ADDED = Event("response.output_item.added", {"type": "response.output_item.added"})


class Stream:
    """An upstream stream: the preamble, then ``ADDED`` once ``gate`` is set."""

    def __init__(self, gate: asyncio.Event) -> None:
        self.gate = gate
        self.closed = False

    async def batches(self) -> AsyncIterator[list[Event]]:
        yield [Event(ev.CREATED, {"type": ev.CREATED})]
        await self.gate.wait()
        yield [ADDED]

    async def aclose(self) -> None:
        self.closed = True


class Upstream:
    name = "codex"

    def __init__(self, *, times_open: bool = False, answers: bool = True) -> None:
        self.times_open = times_open
        self.answers = answers
        self.gate = asyncio.Event()
        self.stream = Stream(self.gate)

    async def open(self, request: CanonicalRequest, account: Account) -> Stream:
        if not self.answers:
            await asyncio.Event().wait()  # no answer at all
        return self.stream


def dispatcher(timeout: float) -> Dispatcher:
    return Dispatcher(AccountPool([]), {}, retry_times=0, first_byte_timeout=timeout)


def attempt(d: Dispatcher, upstream: Upstream) -> asyncio.Task[OpenStream]:
    req = CanonicalRequest(model="gpt-5.5", input=[], origin="chat")
    call = CallContext(request_id="req_test")
    return asyncio.ensure_future(d._attempt(upstream, req, call, Account("tok"), None))  # type: ignore[arg-type]


@pytest.mark.parametrize("times_open", [False, True])
async def test_deadline_after_the_answer_is_a_timeout_and_closes_the_stream(times_open: bool) -> None:
    upstream = Upstream(times_open=times_open)
    task = attempt(dispatcher(0.0), upstream)
    with pytest.raises(errors.UpstreamTimeout, match="no first event in time"):
        await task
    assert upstream.stream.closed
    assert task.cancelling() == 0


async def test_deadline_before_any_answer_is_a_timeout() -> None:
    task = attempt(dispatcher(0.0), Upstream(answers=False))
    with pytest.raises(errors.UpstreamTimeout):
        await task


async def test_a_client_that_leaves_is_a_cancellation_not_a_timeout() -> None:
    upstream = Upstream()
    task = attempt(dispatcher(3600.0), upstream)
    for _ in range(3):
        await asyncio.sleep(0)  # parked on the first content
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert upstream.stream.closed


async def test_first_content_in_time_opens_the_stream() -> None:
    upstream = Upstream()
    d = dispatcher(3600.0)
    task = attempt(d, upstream)
    await asyncio.sleep(0)
    upstream.gate.set()
    opened = await task
    assert [e.type for e in opened.first] == [ev.CREATED, "response.output_item.added"]
    assert not upstream.stream.closed
    assert task.cancelling() == 0
    assert d._deadlines is not None and len(d._deadlines) == 0  # its deadline is gone with it
