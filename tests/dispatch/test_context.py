"""The per-call context reaches the stream's close: door, key, account, usage, status, error."""

from __future__ import annotations

import aiohttp
import orjson

from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext, Observers
from gptgate.errors import KeyLimitExceeded
from gptgate.simulator.server import RunningSimulator
from tests.support import start_gateway


class Recorder:
    def __init__(self, refuse: bool = False) -> None:
        self.admitted: list[tuple[str, str]] = []
        self.closed: list[CallContext] = []
        self.refuse = refuse

    async def admit(self, call: CallContext, request: CanonicalRequest) -> None:
        self.admitted.append((call.door, request.model))
        if self.refuse:
            raise KeyLimitExceeded("over the limit", retry_after=7)

    async def call_closed(self, call: CallContext) -> None:
        self.closed.append(call)


async def test_a_streamed_chat_call_closes_with_its_usage(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url)
    recorder = Recorder()
    assert served.gateway is not None
    served.gateway.observers.add(recorder)
    body = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(served.base_url + "/v1/chat/completions", json=body) as resp:
                assert resp.status == 200
                await resp.read()
            async with http.get(served.base_url + "/v1/models") as resp:
                assert resp.status == 200
    finally:
        await served.close()
    assert recorder.admitted == [("chat", "gpt-5.5")]
    [call] = recorder.closed  # a model list is no model call
    assert call.door == "chat"
    assert call.status == 200
    assert call.account is not None and call.account.id.startswith("cfg-")
    assert call.outcome() == "response.completed"
    usage = call.usage()
    assert usage is not None and usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert call.ttft() is not None and call.error_class() is None
    assert call.request_id.startswith("req_")


async def test_a_refused_call_is_closed_with_its_error_in_the_door_envelope(
    simulator: RunningSimulator,
) -> None:
    served = await start_gateway(simulator.base_url)
    recorder = Recorder(refuse=True)
    assert served.gateway is not None
    served.gateway.observers.add(recorder)
    body = {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(served.base_url + "/v1/messages", json=body) as resp,
        ):
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "7"
            answer = orjson.loads(await resp.read())
            assert answer["error"] == {"type": "rate_limit_error", "message": "over the limit"}
    finally:
        await served.close()
    [call] = recorder.closed
    assert (call.door, call.status, call.account) == ("anthropic", 429, None)
    assert call.error_class() == "rate_limit_exceeded"


async def test_codex_prefix_pins_the_upstream(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url)
    recorder = Recorder()
    assert served.gateway is not None
    served.gateway.observers.add(recorder)
    body = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(served.base_url + "/codex/v1/chat/completions", json=body) as resp,
        ):
            assert resp.status == 200
    finally:
        await served.close()
    [call] = recorder.closed
    assert call.upstream == "codex" and call.outcome() == "response.completed"


class Silent(Recorder):
    """An observer whose admit does nothing, and says so."""

    admits = False

    async def admit(self, call: CallContext, request: CanonicalRequest) -> None:
        raise AssertionError("an observer with admits = False is never awaited on admission")


async def test_observers_that_admit_nothing_are_not_awaited_on_admission() -> None:
    loud, silent = Recorder(), Silent()
    observers = Observers([loud, silent])
    call = CallContext(request_id="req_1")
    await observers.admit(call, CanonicalRequest(model="gpt-5.5", input=[], origin="chat"))
    await observers.call_closed(call)
    assert call.admitted
    assert loud.admitted == [("other", "gpt-5.5")]
    assert loud.closed == [call] and silent.closed == [call]  # both still see the call close
