"""``[[sim:text deltas=N]]`` on the web route: the answer in N text appends, the same text and
pieces as the Codex reply of that directive (the benchmark's web contender relies on it)."""

from __future__ import annotations

import pytest

from gptgate.canonical import events as ev
from gptgate.canonical.request import CanonicalRequest
from gptgate.simulator.replies import split_text
from gptgate.simulator.server import RunningSimulator
from gptgate.upstreams.chatgpt_web.client import ChatGptWebUpstream
from gptgate.upstreams.transport import AiohttpTransport
from tests.support import test_account as account


def turn(text: str) -> CanonicalRequest:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return CanonicalRequest(model="gpt-4o", input=[item], origin="chat", requested_model="gpt-4o")


async def text_deltas(web: ChatGptWebUpstream, text: str) -> list[str]:
    stream = await web.open(turn(text), account())
    got: list[str] = []
    try:
        async for batch in stream.batches():
            got += [e.data["delta"] for e in batch if e.type == ev.TEXT_DELTA]
    finally:
        await stream.aclose()
    return got


@pytest.mark.parametrize("deltas", [1, 3, 50, 200])
async def test_text_deltas_directive(simulator: RunningSimulator, deltas: int) -> None:
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=5, limit=10)
    web = ChatGptWebUpstream(transport, base_urls=[simulator.base_url], first_byte_timeout=5)
    try:
        got = await text_deltas(web, f"hi [[sim:text deltas={deltas}]]")
    finally:
        await web.close()
    assert got == split_text("Hello! You said: hi.", deltas)
    assert "v1" in simulator.state.requests[-1]["body"]["supported_encodings"]  # answered in delta v1


async def test_without_the_directive_the_answer_comes_in_four_pieces(simulator: RunningSimulator) -> None:
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=5, limit=10)
    web = ChatGptWebUpstream(transport, base_urls=[simulator.base_url], first_byte_timeout=5)
    try:
        got = await text_deltas(web, "Say hi")
    finally:
        await web.close()
    assert got == ["Hello!", " You s", "aid: S", "ay hi."]
