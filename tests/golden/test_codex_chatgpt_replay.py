"""Codex CLI 0.169's captured ChatGPT-login sessions, replayed against gptgate over HTTPS.

Every HTTP request of ``codex_chatgpt_text_http``, ``codex_chatgpt_tool_http`` and
``codex_chatgpt_tool_http_gpt55`` is sent as Codex sent it (its headers in order, its body
zstd-compressed as it was, the client key where the ChatGPT token was) to gptgate serving TLS,
the simulator behind it. Each answer is checked against what Codex accepted in the capture:

- the model list, the accounts check and the plugin page in the shapes Codex decodes (the
  accounts check with the workspace routing Codex 0.169 needs before its first turn: an
  ``https://`` origin, which is gptgate's own, and ``NO_CONSTRAINT``); the services gptgate does
  not offer with the 404 Codex met in the capture (the MCP call too, which carries no
  credential);
- each turn as a stream Codex completes: ``text/event-stream``, ``sequence_number`` 0..n,
  ``response.created`` first, every output item added then done, one ``response.completed``
  last with the response id and usage; the first answer (reasoning items aside) is the tool call Codex ran
  in the capture (code mode's ``custom_tool_call`` ``exec`` for gpt-6.1-sol, a ``function_call``
  for gpt-5.5; the text session's may be either, the simulator calls an offered tool) and in the
  tool sessions the last one, carrying the tool's output, is a message; the pool's quota as
  ``x-codex-*`` integer headers;
- upstream, the simulator received the body as Codex sent it (plus the empty ``instructions``
  the backend wants, and ``tools: []`` where a responses-lite body carries its tools in an
  ``additional_tools`` item) with Codex's session headers, on a pool account's token.

The WebSocket upgrade of these sessions (refused with 426 in the capture) is the WebSocket
tests' (``GET /backend-api/codex/responses``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import zstandard

from gptgate.simulator.server import RunningSimulator
from tests import support
from tests.protocols.codex_native.routes_support import CAPTURE_ACCOUNT, replay_headers
from tests.protocols.codex_native.served import KEY, codex_client, fetch_models
from tests.support import client_requests, sse_data

SESSIONS = ["codex_chatgpt_text_http", "codex_chatgpt_tool_http", "codex_chatgpt_tool_http_gpt55"]
#: what Codex needs in each of its model entries (its ModelInfo's required fields)
MODEL_FIELDS = {
    "slug",
    "display_name",
    "supported_reasoning_levels",
    "shell_type",
    "visibility",
    "supported_in_api",
    "priority",
    "base_instructions",
    "supports_reasoning_summaries",
    "support_verbosity",
    "truncation_policy",
    "supports_parallel_tool_calls",
    "experimental_supported_tools",
}
#: the tool call each session's first turn answered with in the capture
FIRST_OUTPUT = {
    "codex_chatgpt_text_http": {"custom_tool_call", "message"},
    "codex_chatgpt_tool_http": {"custom_tool_call"},
    "codex_chatgpt_tool_http_gpt55": {"function_call"},
}


@pytest.mark.parametrize("session", SESSIONS)
async def test_captured_session_replays_with_the_replies_codex_accepted(
    session: str, simulator: RunningSimulator, tmp_path: Path
) -> None:
    captured = [r for r in client_requests(session) if r["method"] in ("GET", "POST")]
    async with codex_client(simulator, tmp_path, [support.test_account()], api_keys=[KEY]) as (gw, http):
        await fetch_models(gw.gateway)
        turns: list[list[dict[str, Any]]] = []
        for request in captured:
            if request["method"] == "GET" and request["path"] == "/backend-api/codex/responses":
                continue  # the WebSocket upgrade (the capture refused it; Codex fell back to HTTP)
            status, headers, body = await _send(http, gw.base_url, request)
            path = request["path"].split("?", 1)[0]
            if path == "/backend-api/codex/responses":
                turns.append(_check_turn(status, headers, body, request, simulator))
            else:
                _check_side_call(path, status, body, request, gw.base_url)
    assert turns, "the session has turns"
    first = _outputs(turns[0])
    assert first and set(first) <= FIRST_OUTPUT[session]
    if session != "codex_chatgpt_text_http":
        assert _outputs(turns[-1]) == ["message"]


def _outputs(events: list[dict[str, Any]]) -> list[str]:
    """The output item types of a turn, reasoning aside (Codex keeps it and carries on)."""
    items = (e["item"]["type"] for e in events if e["type"] == "response.output_item.done")
    return [t for t in items if t != "reasoning"]


async def _send(
    http: aiohttp.ClientSession, base: str, request: dict[str, Any]
) -> tuple[int, aiohttp.typedefs.LooseHeaders, bytes]:
    headers = replay_headers(request["headers"], KEY)
    data = None
    if "body" in request:
        data = orjson.dumps(request["body"])
        if dict(request["headers"]).get("content-encoding") == "zstd":
            data = zstandard.ZstdCompressor().compress(data)
    async with http.request(request["method"], base + request["path"], data=data, headers=headers) as resp:
        return resp.status, resp.headers.copy(), await resp.read()


def _check_side_call(path: str, status: int, body: bytes, request: dict[str, Any], base: str) -> None:
    answer = orjson.loads(body)
    if path == "/backend-api/codex/models":
        assert status == 200
        models = answer["models"]
        assert {"gpt-6.1-sol", "gpt-5.5"} <= {m["slug"] for m in models}
        for model in models:
            assert set(model) >= MODEL_FIELDS, model["slug"]
    elif path == "/backend-api/wham/accounts/check":
        assert status == 200
        (entry,) = answer["accounts"]
        assert entry["id"] == CAPTURE_ACCOUNT == answer["default_account_id"]
        assert entry["workspace_backend_origin"] == base and base.startswith("https://")
        assert entry["account_routing_override"] == "NO_CONSTRAINT"
    elif path == "/backend-api/ps/plugins/installed":
        assert (status, answer["plugins"], answer["pagination"]["next_page_token"]) == (200, [], None)
    else:
        assert request["reply"]["status"] == 404, path
        assert (status, answer) == (404, {"detail": "Not Found"}), path


def _check_turn(
    status: int,
    headers: Any,
    body: bytes,
    request: dict[str, Any],
    simulator: RunningSimulator,
) -> list[dict[str, Any]]:
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/event-stream")
    for window in ("primary", "secondary"):
        assert headers[f"x-codex-{window}-used-percent"].isdigit()
        assert headers[f"x-codex-{window}-reset-at"].isdigit()
    events = [orjson.loads(d) for d in sse_data(body)]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[0]["type"] == "response.created" and events[-1]["type"] == "response.completed"
    assert [e["type"] for e in events].count("response.completed") == 1
    completed = events[-1]["response"]
    assert completed["id"] and completed["usage"]["output_tokens"] >= 0
    added = [e["output_index"] for e in events if e["type"] == "response.output_item.added"]
    done = [e["output_index"] for e in events if e["type"] == "response.output_item.done"]
    assert added == done and done
    upstream = simulator.state.requests[-1]
    assert upstream["path"] == "/backend-api/codex/responses"
    sent_body = request["body"]
    assert upstream["body"] == {**sent_body, "instructions": "", "tools": sent_body.get("tools", [])}
    sent = dict(request["headers"])
    for name in (
        "session-id",
        "thread-id",
        "x-codex-turn-metadata",
        "x-codex-window-id",
        "x-codex-beta-features",
    ):
        assert upstream["headers"][name] == sent[name]
    assert upstream["headers"]["authorization"] != f"Bearer {KEY}"
    assert upstream["headers"]["chatgpt-account-id"] == "acct-test-0001"
    return events
