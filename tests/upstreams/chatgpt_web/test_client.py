"""The web upstream end to end against the simulator's web routes (real loopback sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gptgate import errors
from gptgate.canonical.fold import Folder
from gptgate.canonical.request import CanonicalRequest
from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.web import WEB_KEY
from gptgate.upstreams.chatgpt_web.client import ChatGptWebUpstream
from gptgate.upstreams.chatgpt_web.encode import F_CONVERSATION_PATH, ConversationOptions
from gptgate.upstreams.chatgpt_web.errors import ModelCapExceeded
from gptgate.upstreams.stream import DecodedStream
from gptgate.upstreams.transport import AiohttpTransport
from tests.support import test_account as account


def turn(text: str, model: str = "gpt-4o") -> CanonicalRequest:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return CanonicalRequest(model=model, input=[item], origin="chat", requested_model=model)


@pytest.fixture
async def upstream(simulator: RunningSimulator) -> AsyncIterator[ChatGptWebUpstream]:
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=5, limit=10)
    web = ChatGptWebUpstream(
        transport,
        base_urls=[simulator.base_url],
        first_byte_timeout=5,
        options=ConversationOptions(extra_headers={"authkey": "gateway-key"}),
    )
    yield web
    await web.close()


async def answer(stream: DecodedStream) -> dict[str, Any]:
    folder = Folder()
    try:
        async for batch in stream.batches():
            folder.feed(batch)
    finally:
        await stream.aclose()
    assert folder.response is not None
    return folder.response


def text_of(response: dict[str, Any]) -> str:
    return "".join(i["content"][0]["text"] for i in response["output"] if i["type"] == "message")


async def test_text_turn_v1(upstream: ChatGptWebUpstream, simulator: RunningSimulator) -> None:
    response = await answer(await upstream.open(turn("Say hi"), account()))
    assert response["status"] == "completed"
    assert text_of(response) == "Hello! You said: Say hi."
    assert response["model"] == "gpt-4o"
    sent = simulator.state.requests[-1]
    assert sent["path"] == "/backend-api/conversation"
    assert sent["body"]["model"] == "gpt-4o"
    assert sent["body"]["conversation_mode"] == {"kind": "primary_assistant"}
    assert sent["headers"]["authkey"] == "gateway-key"
    assert sent["headers"]["accept"] == "text/event-stream"


async def test_old_format_and_f_path(simulator: RunningSimulator) -> None:
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=5, limit=10)
    web = ChatGptWebUpstream(
        transport, base_urls=[simulator.base_url], first_byte_timeout=5, conversation_path=F_CONVERSATION_PATH
    )
    try:
        response = await answer(await web.open(turn("old please [[sim:web_format old]]"), account()))
    finally:
        await web.close()
    assert text_of(response) == "Hello! You said: old please."
    assert simulator.state.requests[-1]["path"] == "/backend-api/f/conversation"


async def test_reasoning_and_no_finish(upstream: ChatGptWebUpstream) -> None:
    response = await answer(
        await upstream.open(turn("think [[sim:web_reasoning]]", "gpt-5-thinking"), account())
    )
    assert [i["type"] for i in response["output"]] == ["reasoning", "message"]
    assert response["output"][0]["summary"][0]["text"] == (
        "**Thinking it over**\n\nThe user greets me; a short answer fits."
    )
    response = await answer(await upstream.open(turn("cut [[sim:web_no_finish]]"), account()))
    assert response["status"] == "completed"  # [DONE] without a finish record still closes cleanly
    assert text_of(response) == "Hello! You said: cut."


async def test_gizmo_turn(upstream: ChatGptWebUpstream, simulator: RunningSimulator) -> None:
    stream = await upstream.open(turn("hi", "gpt-4o-gizmo-g-p-abc123"), account())
    response = await answer(stream)
    assert text_of(response) == "[g-p-abc123] Hello! You said: hi."
    body = simulator.state.requests[-1]["body"]
    assert body["model"] == "gpt-4o"
    assert body["conversation_mode"] == {"kind": "gizmo_interaction", "gizmo_id": "g-p-abc123"}


async def test_message_cap_is_account_scoped(upstream: ChatGptWebUpstream) -> None:
    with pytest.raises(ModelCapExceeded) as caught:
        await upstream.open(turn("[[sim:web_cap 252]]"), account())
    exc = caught.value
    assert isinstance(exc, errors.AccountError)
    assert exc.model == "gpt-4o"
    assert exc.retry_after is not None and 250 <= exc.retry_after <= 252
    assert exc.code == "model_cap_exceeded"


async def test_challenge_fails_over_then_is_gateway_scoped(simulator: RunningSimulator) -> None:
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=5, limit=10)
    web = ChatGptWebUpstream(
        transport, base_urls=[simulator.base_url, simulator.base_url], first_byte_timeout=5
    )
    before = len(simulator.state.requests)
    try:
        with pytest.raises(errors.UpstreamUnavailable) as caught:
            await web.open(turn("[[sim:web_challenge]]"), account())
        assert caught.value.code == "upstream_challenge"
        assert len(simulator.state.requests) - before == 2  # each base tried once
        with pytest.raises(errors.AccountForbidden):
            await web.open(turn("[[sim:web_forbidden]]"), account())
        with pytest.raises(errors.UpstreamRequestRejected) as rejected:
            await web.open(turn("[[sim:web_error 413]]"), account())
        assert (rejected.value.status, rejected.value.code) == (413, "request_too_large")
    finally:
        await web.close()


async def test_sentinel_exchange(simulator: RunningSimulator) -> None:
    state = simulator.runner.app[WEB_KEY]
    state.require_sentinel = True
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=5, limit=10)
    plain = ChatGptWebUpstream(transport, base_urls=[simulator.base_url], first_byte_timeout=5)
    with pytest.raises(errors.AccountForbidden):
        await plain.open(turn("no tokens"), account())
    web = ChatGptWebUpstream(
        transport, base_urls=[simulator.base_url], first_byte_timeout=30, sentinel_tokens=True
    )
    try:
        response = await answer(await web.open(turn("with tokens"), account()))
    finally:
        await web.close()
    assert text_of(response) == "Hello! You said: with tokens."
    paths = [r["path"] for r in list(simulator.state.requests)[-2:]]
    assert paths == ["/backend-api/sentinel/chat-requirements", "/backend-api/conversation"]
    assert state.issued == {}


async def test_models_list_and_unknown_model(upstream: ChatGptWebUpstream) -> None:
    models = await upstream.list_models(account())
    assert [m["slug"] for m in models] == [
        "auto",
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-5",
        "gpt-5-instant",
        "gpt-5-thinking",
        "o3",
        "o4-mini",
    ]
    with pytest.raises(errors.ModelNotFound):
        await upstream.open(turn("x", "gpt-4o-gizmo-abc"), account())
    with pytest.raises(errors.ModelNotFound):
        await upstream.open(turn("x", "claude-3"), account())


async def test_function_tools_refused_naming_the_feature(upstream: ChatGptWebUpstream) -> None:
    req = turn("x")
    req.tools = [{"type": "function", "name": "lookup", "parameters": {}}]
    with pytest.raises(errors.UnsupportedFeature, match="client tools"):
        await upstream.open(req, account())
