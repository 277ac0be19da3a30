"""The Anthropic door over real sockets: the simulator upstream, the Anthropic error envelope."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest
from multidict import CIMultiDict

from gptgate.protocols.anthropic.signature import unsign
from gptgate.simulator.server import RunningSimulator
from tests.protocols.anthropic.wire import check_stream
from tests.support import Served, fixture_path, replay, start_gateway, start_raw_upstream

MODEL = "claude-sonnet-4-5"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
ANTHROPIC = {"anthropic-version": "2023-06-01"}


def messages(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 256, "messages": [{"role": "user", "content": text}], **extra}


async def post(
    base: str, path: str, data: bytes | dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, CIMultiDict[str], bytes]:
    body = data if isinstance(data, bytes) else orjson.dumps(data)
    hdrs = {"content-type": "application/json", **ANTHROPIC, **(headers or {})}
    async with aiohttp.ClientSession() as http, http.post(base + path, data=body, headers=hdrs) as resp:
        return resp.status, CIMultiDict(resp.headers), await resp.read()


async def get(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(base + path, headers=ANTHROPIC if headers is None else headers) as resp,
    ):
        return resp.status, orjson.loads(await resp.read())


def envelope(body: bytes) -> dict[str, Any]:
    data = orjson.loads(body)
    assert set(data) == {"type", "error", "request_id"} and data["type"] == "error"
    assert set(data["error"]) == {"type", "message"} and data["request_id"].startswith("req_")
    err: dict[str, Any] = data["error"]
    return err


def upstream_bodies(simulator: RunningSimulator) -> list[dict[str, Any]]:
    return [r["body"] for r in simulator.state.requests if r["path"].endswith("/responses")]


@pytest.mark.parametrize(
    ("payload", "status", "kind", "names"),
    [
        (b"{not json", 400, "invalid_request_error", "not valid JSON"),
        (b"[1,2]", 400, "invalid_request_error", "JSON object"),
        (b"", 400, "invalid_request_error", "empty"),
        ({"max_tokens": 5, "messages": []}, 400, "invalid_request_error", "'model'"),
        ({"model": MODEL, "max_tokens": 5}, 400, "invalid_request_error", "'messages'"),
        (
            {"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
            400,
            "invalid_request_error",
            "'max_tokens'",
        ),
        (
            messages("x") | {"messages": [{"role": "user", "content": [{"type": "video"}]}]},
            400,
            "invalid_request_error",
            "'messages[0].content[0].type'",
        ),
        (
            messages("x")
            | {"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64"}}]}]},
            400,
            "invalid_request_error",
            "'messages[0].content[0].source.media_type'",
        ),
        (messages("x", tool_choice={"type": "whatever"}), 400, "invalid_request_error", "'tool_choice.type'"),
        (messages("x", model="no-such-model"), 404, "not_found_error", "no-such-model"),
    ],
)
async def test_bad_input_gets_an_anthropic_error(
    gateway: Served, payload: Any, status: int, kind: str, names: str
) -> None:
    got, headers, body = await post(gateway.base_url, "/v1/messages", payload)
    err = envelope(body)
    assert (got, err["type"]) == (status, kind)
    assert names in err["message"]
    assert headers["request-id"] == orjson.loads(body)["request_id"]


async def test_unknown_path_with_anthropic_headers_is_an_anthropic_404(gateway: Served) -> None:
    status, _, body = await post(gateway.base_url, "/v1/messages/nothing", messages("x"))
    assert status in (404, 405) and envelope(body)["type"] in ("not_found_error", "invalid_request_error")


async def test_non_stream_text_reply(gateway: Served) -> None:
    status, headers, body = await post(
        gateway.base_url, "/v1/messages?beta=true", messages("Hello!", temperature=0)
    )
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    reply = orjson.loads(body)
    assert reply["id"].startswith("msg_") and reply["type"] == "message" and reply["role"] == "assistant"
    assert reply["model"] == MODEL and reply["stop_reason"] == "end_turn" and reply["stop_sequence"] is None
    assert reply["content"] == [{"type": "text", "text": "Hello! You said: Hello!."}]
    assert reply["usage"]["input_tokens"] > 0 and reply["usage"]["output_tokens"] > 0
    assert headers["x-gptgate-ignored"] == "max_tokens,temperature"
    assert headers["request-id"].startswith("req_")


@pytest.mark.parametrize("prefix", ["/v1", "", "/codex/v1"])
async def test_stream_on_every_prefix(gateway: Served, prefix: str) -> None:
    status, headers, body = await post(gateway.base_url, prefix + "/messages", messages("Hi", stream=True))
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    reply = check_stream(body)
    assert reply["content"] == [{"type": "text", "text": "Hello! You said: Hi."}]
    assert reply["stop_reason"] == "end_turn" and reply["usage"]["output_tokens"] > 0


async def test_tool_ids_round_trip_to_the_upstream_call_id(
    gateway: Served, simulator: RunningSimulator
) -> None:
    first = messages("Weather in Paris?", tools=[WEATHER], stream=True)
    status, _, body = await post(gateway.base_url, "/v1/messages", first)
    reply = check_stream(body)
    assert status == 200 and reply["stop_reason"] == "tool_use"
    (call,) = reply["content"]
    assert call["type"] == "tool_use" and call["name"] == "get_weather" and call["id"].startswith("call_")
    second = messages("Weather in Paris?", tools=[WEATHER])
    second["messages"] += [
        {"role": "assistant", "content": [call]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "sunny"}]},
    ]
    status, _, body = await post(gateway.base_url, "/v1/messages", second)
    assert status == 200 and orjson.loads(body)["content"][0]["text"] == "Tool result received: sunny"
    sent = upstream_bodies(simulator)[-1]["input"]
    assert sent[-2] == {
        "type": "function_call",
        "call_id": call["id"],
        "name": "get_weather",
        "arguments": orjson.dumps(call["input"]).decode(),
    }
    assert sent[-1] == {"type": "function_call_output", "call_id": call["id"], "output": "sunny"}


async def test_fixture_call_id_is_the_one_the_upstream_issued() -> None:
    upstream = await start_raw_upstream(
        replay(fixture_path("codex", "function-call.constructed.sse").read_bytes())
    )
    gateway = await start_gateway(upstream.base_url)
    try:
        _, _, body = await post(gateway.base_url, "/v1/messages", messages("x", stream=True))
    finally:
        await gateway.close()
        await upstream.close()
    assert check_stream(body)["content"][-1]["id"] == "call_Qm9vQmFyQmF6UXV4MTIzNDU2"


async def test_parallel_calls_and_disable_parallel_tool_use(
    gateway: Served, simulator: RunningSimulator
) -> None:
    other = {**WEATHER, "name": "get_time"}
    _, _, body = await post(
        gateway.base_url,
        "/v1/messages",
        messages("[[sim:parallel]] both", tools=[WEATHER, other], stream=True),
    )
    reply = check_stream(body)
    assert [b["name"] for b in reply["content"]] == ["get_weather", "get_time"]
    assert len({b["id"] for b in reply["content"]}) == 2
    choice = {"type": "auto", "disable_parallel_tool_use": True}
    await post(
        gateway.base_url,
        "/v1/messages",
        messages("[[sim:parallel]] one", tools=[WEATHER, other], tool_choice=choice),
    )
    assert upstream_bodies(simulator)[-1]["parallel_tool_calls"] is False


async def test_thinking_round_trips_through_the_signature(
    gateway: Served, simulator: RunningSimulator
) -> None:
    first = messages(
        "think", max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 2048}, stream=True
    )
    reply = check_stream((await post(gateway.base_url, "/v1/messages", first))[2])
    thinking, text = reply["content"]
    assert thinking["type"] == "thinking" and thinking["thinking"] and text["type"] == "text"
    assert upstream_bodies(simulator)[-1]["reasoning"] == {"effort": "low", "summary": "auto"}
    item_id, encrypted = unsign(thinking["signature"]) or ("", "")
    assert item_id.startswith("rs_") and encrypted.startswith("gAAAAAB")
    second = messages("think", max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 2048})
    second["messages"] += [
        {"role": "assistant", "content": [thinking, text]},
        {"role": "user", "content": "again"},
    ]
    status, _, _ = await post(gateway.base_url, "/v1/messages", second)
    assert status == 200
    sent = upstream_bodies(simulator)[-1]["input"]
    assert sent[1] == {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": thinking["thinking"]}],
        "encrypted_content": encrypted,
        "id": item_id,
    }


async def test_no_thinking_requested_means_no_thinking_blocks(gateway: Served) -> None:
    _, _, body = await post(
        gateway.base_url, "/v1/messages", messages("hi", output_config={"effort": "high"})
    )
    assert [b["type"] for b in orjson.loads(body)["content"]] == ["text"]


async def test_claude_code_session_reaches_the_upstream(gateway: Served, simulator: RunningSimulator) -> None:
    await post(gateway.base_url, "/v1/messages", messages("hi"), {"X-Claude-Code-Session-Id": "sess-42"})
    request = [r for r in simulator.state.requests if r["path"].endswith("/responses")][-1]
    assert request["body"]["prompt_cache_key"] == "sess-42"
    assert dict((k.lower(), v) for k, v in request["headers"].items())["session_id"] == "sess-42"


async def test_failures_after_the_first_byte_are_error_events(gateway: Served) -> None:
    _, _, body = await post(gateway.base_url, "/v1/messages", messages("[[sim:failed]]", stream=True))
    assert check_stream(body)["error"]["type"] == "invalid_request_error"
    _, _, body = await post(gateway.base_url, "/v1/messages", messages("[[sim:cut after=6]]", stream=True))
    assert check_stream(body)["error"]["type"] == "api_error"
    status, _, body = await post(gateway.base_url, "/v1/messages", messages("[[sim:failed]]"))
    assert status == 400 and envelope(body)["type"] == "invalid_request_error"


async def test_incomplete_is_max_tokens(gateway: Served) -> None:
    status, _, body = await post(gateway.base_url, "/v1/messages", messages("[[sim:incomplete]]"))
    assert status == 200 and orjson.loads(body)["stop_reason"] == "max_tokens"


async def test_pool_exhausted_is_a_429_rate_limit_error_with_retry_after(gateway: Served) -> None:
    status, headers, body = await post(gateway.base_url, "/v1/messages", messages("hi [[sim:usage_limit]]"))
    assert status == 429 and envelope(body)["type"] == "rate_limit_error"
    assert int(headers["retry-after"]) > 17000
    status, headers, body = await post(gateway.base_url, "/v1/messages", messages("again", stream=True))
    assert status == 429 and envelope(body)["type"] == "rate_limit_error" and "retry-after" in headers


async def test_overloaded_upstream_reads_overloaded(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url, retry_times=0)
    try:
        status, _, body = await post(served.base_url, "/v1/messages", messages("[[sim:overloaded]]"))
    finally:
        await served.close()
    assert status >= 500 and envelope(body)["type"] == "overloaded_error"


async def test_count_tokens(gateway: Served, simulator: RunningSimulator) -> None:
    before = len(simulator.state.requests)
    short = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    status, _, body = await post(gateway.base_url, "/v1/messages/count_tokens?beta=true", short)
    small = orjson.loads(body)
    assert status == 200 and set(small) == {"input_tokens"} and small["input_tokens"] > 0
    longer = {**short, "system": "You are terse. " * 50, "tools": [WEATHER]}
    status, _, body = await post(gateway.base_url, "/messages/count_tokens", longer)
    assert orjson.loads(body)["input_tokens"] > small["input_tokens"] + 100
    status, _, body = await post(gateway.base_url, "/v1/messages/count_tokens", {**short, "model": "nope"})
    assert status == 404 and envelope(body)["type"] == "not_found_error"
    status, _, body = await post(gateway.base_url, "/v1/messages/count_tokens", {"model": MODEL})
    assert status == 400 and "'messages'" in envelope(body)["message"]
    assert len(simulator.state.requests) == before  # counted locally


async def test_models_in_anthropic_shape_with_paging(gateway: Served) -> None:
    status, listing = await get(gateway.base_url, "/v1/models")
    assert status == 200 and set(listing) == {"data", "has_more", "first_id", "last_id"}
    ids = [m["id"] for m in listing["data"]]
    assert ids[:3] == ["claude-opus-4-8", "claude-sonnet-4-5", "claude-haiku-4-5"] and "gpt-5.5" in ids
    assert listing["data"][0] == {
        "type": "model",
        "id": "claude-opus-4-8",
        "display_name": "Claude Opus 4.8",
        "created_at": listing["data"][0]["created_at"],
        "upstream": "codex",  # where it is served from (gptgate's addition)
    }
    assert listing["data"][0]["created_at"].endswith("Z") and not listing["has_more"]
    _, first = await get(gateway.base_url, "/v1/models?limit=2")
    assert [m["id"] for m in first["data"]] == ids[:2] and first["has_more"] and first["last_id"] == ids[1]
    _, after = await get(gateway.base_url, f"/v1/models?limit=2&after_id={first['last_id']}")
    assert [m["id"] for m in after["data"]] == ids[2:4]
    _, before = await get(gateway.base_url, f"/v1/models?limit=5&before_id={ids[3]}")
    assert [m["id"] for m in before["data"]] == ids[:3] and not before["has_more"]
    status, bad = await get(gateway.base_url, "/v1/models?limit=0")
    assert status == 400 and bad["error"]["type"] == "invalid_request_error"
    status, one = await get(gateway.base_url, "/v1/models/claude-opus-4-8")
    assert status == 200 and one["display_name"] == "Claude Opus 4.8"
    status, alias = await get(gateway.base_url, "/v1/models/claude-opus-4-1-20250805")
    assert (
        status == 200
        and alias["id"] == "claude-opus-4-1-20250805"
        and alias["display_name"] == "Claude Opus 4.1"
    )
    status, missing = await get(gateway.base_url, "/v1/models/nope")
    assert status == 404 and missing["type"] == "error" and missing["error"]["type"] == "not_found_error"
    status, openai = await get(gateway.base_url, "/v1/models", {})
    assert status == 200 and openai["object"] == "list"


async def test_keys_by_x_api_key_or_bearer_and_anthropic_401(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url, api_keys=["sk-right"])
    try:
        status, _, body = await post(served.base_url, "/v1/messages", messages("hi"))
        assert status == 401 and envelope(body)["type"] == "authentication_error"
        status, _, body = await post(
            served.base_url, "/v1/messages", messages("hi"), {"x-api-key": "sk-wrong"}
        )
        assert status == 401 and envelope(body)["type"] == "authentication_error"
        for header in ({"x-api-key": "sk-right"}, {"authorization": "Bearer sk-right"}):
            status, _, _ = await post(served.base_url, "/v1/messages", messages("hi"), header)
            assert status == 200
    finally:
        await served.close()


async def test_oversize_body_is_request_too_large(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url, max_body_mb=0.01)
    try:
        status, _, body = await post(served.base_url, "/v1/messages", messages("x" * 20000))
    finally:
        await served.close()
    assert status == 413 and envelope(body)["type"] == "request_too_large"
