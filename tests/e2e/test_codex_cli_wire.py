"""Codex CLI's captured requests (custom provider, wire_api = "responses") through gptgate."""

from __future__ import annotations

import aiohttp
import orjson

from gptgate.simulator.server import RunningSimulator
from tests.support import Served, client_requests, sse_data

HOP_BY_HOP = {"host", "content-length", "authorization"}


async def test_codex_cli_turns_are_served_and_forwarded_verbatim(
    gateway: Served, simulator: RunningSimulator
) -> None:
    captured = client_requests("codex_apikey_responses_tool")
    assert len(captured) == 2
    async with aiohttp.ClientSession() as http:
        for request in captured:
            headers = {k: v for k, v in request["headers"] if k.lower() not in HOP_BY_HOP}
            async with http.post(
                gateway.base_url + "/v1/responses", data=orjson.dumps(request["body"]), headers=headers
            ) as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"].startswith("text/event-stream")
                events = [orjson.loads(d) for d in sse_data(await resp.read())]
            assert [e["sequence_number"] for e in events] == list(range(len(events)))
            assert events[0]["type"] == "response.created" and events[-1]["type"] == "response.completed"
            upstream = simulator.state.requests[-1]
            assert upstream["path"] == "/backend-api/codex/responses"
            sent = upstream["body"]
            assert {k: v for k, v in sent.items() if k != "instructions"} == request["body"]
            for name in (
                "session-id",
                "thread-id",
                "x-codex-turn-metadata",
                "x-codex-window-id",
                "originator",
            ):
                assert upstream["headers"][name] == dict(request["headers"])[name]
            assert upstream["headers"]["chatgpt-account-id"] == "acct-test-0001"
            assert upstream["headers"]["authorization"].startswith(
                "Bearer ey"
            )  # the account's token, not the client's key
    first, second = captured
    kinds = [item["type"] for item in second["body"]["input"]]
    assert kinds[-2:] == ["function_call", "function_call_output"]
    assert first["body"]["prompt_cache_key"] == second["body"]["prompt_cache_key"]
