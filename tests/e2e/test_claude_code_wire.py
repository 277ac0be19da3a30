"""What Claude Code 2.1.197 really sent (``fixtures/clients/claude_code_*.jsonl``), decoded and served.

Each captured ``POST /v1/messages?beta=true`` is decoded without loss (checked on the canonical
request), then replayed with its own headers through gptgate to the simulator, and the stream
must keep invariant §8.2. The tool capture's two turns run as a loop: the first answer's
``tool_use`` comes back as the client would echo it, with a ``tool_result`` for its id.
"""

from __future__ import annotations

import copy
from typing import Any

import aiohttp
import orjson
import pytest
from multidict import CIMultiDict

from gptgate.protocols.anthropic.decode import decode
from gptgate.protocols.anthropic.signature import unsign
from gptgate.simulator.server import RunningSimulator
from tests.protocols.anthropic.wire import check_stream
from tests.support import Served, client_requests

CAPTURES = ["claude_code_text", "claude_code_tool", "claude_code_text_json_output"]
HOP_BY_HOP = {"host", "content-length", "content-encoding", "transfer-encoding", "connection"}


def captured_posts() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{name}#{r['seq']}", r)
        for name in CAPTURES
        for r in client_requests(name)
        if r["method"] == "POST" and r["path"].startswith("/v1/messages")
    ]


POSTS = captured_posts()


def headers_of(record: dict[str, Any]) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in record["headers"] if k.lower() not in HOP_BY_HOP)


def texts(item: dict[str, Any]) -> list[str]:
    content = item.get("content") or item.get("output") or []
    if isinstance(content, str):
        return [content]
    return [p["text"] for p in content if "text" in p]


@pytest.mark.parametrize(("name", "record"), POSTS, ids=[n for n, _ in POSTS])
def test_capture_decodes_without_loss(name: str, record: dict[str, Any]) -> None:
    body, headers = record["body"], headers_of(record)
    decoded = decode(copy.deepcopy(body), headers)
    req = decoded.req
    # system: one developer message, the attribution line gone, every other block kept in order
    system = req.input[0]
    assert system["role"] == "developer"
    assert body["system"][0]["text"].startswith("x-anthropic-billing-header:")
    assert texts(system) == [b["text"] for b in body["system"][1:]]
    assert not any("x-anthropic-billing-header" in t for item in req.input for t in texts(item))
    # tools: all of them, same names, client-compatible schemas
    assert [t["name"] for t in req.tools] == [t["name"] for t in body["tools"]] and len(req.tools) == 24
    assert all(t["strict"] is False and "$schema" not in t["parameters"] for t in req.tools)
    assert all(t["parameters"]["type"] == "object" for t in req.tools)
    # session -> prompt cache key, from the header (same as metadata.user_id's session_id)
    session = headers["X-Claude-Code-Session-Id"]
    assert req.prompt_cache_key == session == orjson.loads(body["metadata"]["user_id"])["session_id"]
    # effort: adaptive + output_config.effort high (opus), or budget 31999 (sonnet)
    assert req.reasoning == {"effort": "high"} and decoded.thinking == "shown"
    # mid-conversation system entries -> user messages in <system-reminder> tags
    reminders = [
        f"<system-reminder>\n{m['content']}\n</system-reminder>"
        for m in body["messages"]
        if m["role"] == "system"
    ]
    wrapped = [texts(i)[0] for i in req.input if i.get("role") == "user" and len(texts(i)) == 1]
    assert [w for w in wrapped if w in reminders] == reminders
    # every text block the user or assistant wrote is there, in order
    written = [
        b["text"]
        for m in body["messages"]
        if m["role"] != "system" and isinstance(m["content"], list)
        for b in m["content"]
        if b["type"] == "text"
    ]
    sent = [t for item in req.input[1:] for t in texts(item) if t not in reminders]
    assert [t for t in sent if t in written] == written
    # nothing Claude Code sends is refused; what the upstream cannot take is reported
    assert req.ignored == ["max_tokens", "metadata", "context_management"] and req.extras == {}
    assert req.stream is True


def test_tool_turn_of_the_capture_maps_to_call_and_output() -> None:
    record = next(r for n, r in POSTS if n == "claude_code_tool#3")
    req = decode(record["body"], headers_of(record)).req
    assert req.input[-2:] == [
        {
            "type": "function_call",
            "call_id": "toolu_ba6134452ad14c47ae481af3",
            "name": "Bash",
            "arguments": '{"command":"echo hi","description":"Print hi"}',
        },
        {"type": "function_call_output", "call_id": "toolu_ba6134452ad14c47ae481af3", "output": "hi"},
    ]


async def send(gateway: Served, record: dict[str, Any], body: dict[str, Any]) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            gateway.base_url + record["path"], data=orjson.dumps(body), headers=headers_of(record)
        ) as resp,
    ):
        return resp.status, await resp.read()


@pytest.mark.parametrize(("name", "record"), POSTS, ids=[n for n, _ in POSTS])
async def test_capture_is_served_with_a_valid_stream(
    gateway: Served, simulator: RunningSimulator, name: str, record: dict[str, Any]
) -> None:
    status, body = await send(gateway, record, record["body"])
    assert status == 200, body
    reply = check_stream(body)
    assert reply["content"][0]["type"] == "thinking" and unsign(reply["content"][0]["signature"])
    assert reply["stop_reason"] in ("end_turn", "tool_use")
    upstream = simulator.state.requests[-1]
    assert upstream["body"]["prompt_cache_key"] == headers_of(record)["X-Claude-Code-Session-Id"]
    assert upstream["body"]["reasoning"] == {"effort": "high", "summary": "auto"}


async def test_tool_capture_runs_as_a_two_turn_loop(gateway: Served, simulator: RunningSimulator) -> None:
    first_record, second_record = (r for n, r in POSTS if n.startswith("claude_code_tool#"))
    status, body = await send(gateway, first_record, first_record["body"])
    first = check_stream(body)
    assert status == 200 and first["stop_reason"] == "tool_use"
    thinking, call = first["content"]
    assert thinking["type"] == "thinking" and call["type"] == "tool_use"
    # Claude Code echoes the assistant turn and answers the call with its id
    second = copy.deepcopy(second_record["body"])
    assert second["messages"][-2]["role"] == "assistant"
    second["messages"][-2]["content"] = [thinking, call]
    second["messages"][-1]["content"][0]["tool_use_id"] = call["id"]
    status, body = await send(gateway, second_record, second)
    final = check_stream(body)
    assert status == 200 and final["stop_reason"] == "end_turn"
    assert final["content"][-1] == {"type": "text", "text": "Tool result received: hi"}
    sent = simulator.state.requests[-1]["body"]["input"]
    item_id, encrypted = unsign(thinking["signature"]) or ("", "")
    assert sent[-3]["type"] == "reasoning" and sent[-3]["encrypted_content"] == encrypted
    assert sent[-3]["id"] == item_id
    assert sent[-2]["type"] == "function_call" and sent[-2]["call_id"] == call["id"]
    assert sent[-1] == {"type": "function_call_output", "call_id": call["id"], "output": "hi"}
