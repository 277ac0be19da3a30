"""Which upstream serves a call: its path pin (``/chatgpt/v1``, ``/codex/v1``), else its model.

A gateway with both upstreams on the simulator; the simulator records which backend path each
turn reached (``/backend-api/codex/responses`` or ``/backend-api/conversation``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from gptgate.simulator.server import RunningSimulator
from tests.support import Served, start_gateway

CODEX, WEB = "/backend-api/codex/responses", "/backend-api/conversation"


@pytest.fixture
async def both(simulator: RunningSimulator) -> AsyncIterator[Served]:
    served = await start_gateway(simulator.base_url, chatgpt_base_urls=[simulator.base_url])
    try:
        yield served
    finally:
        await served.close()


def reached(simulator: RunningSimulator) -> list[tuple[str, Any]]:
    return [
        (r["path"], r["body"].get("model"))
        for r in simulator.state.requests
        if r["path"] in (CODEX, WEB) and isinstance(r.get("body"), dict)
    ]


async def chat(base: str, path: str, model: str, **extra: Any) -> tuple[int, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}
    async with aiohttp.ClientSession() as http, http.post(base + path, data=orjson.dumps(body)) as resp:
        return resp.status, orjson.loads(await resp.read())


async def test_the_model_picks_the_upstream_and_the_path_pins_it(
    both: Served, simulator: RunningSimulator
) -> None:
    base = both.base_url
    assert (await chat(base, "/v1/chat/completions", "gpt-5.5"))[0] == 200
    status, body = await chat(base, "/v1/chat/completions", "gpt-4o")
    assert status == 200 and body["choices"][0]["message"]["content"] == "Hello! You said: hi."
    status, body = await chat(base, "/chatgpt/v1/chat/completions", "gpt-4.1")
    assert status == 200 and body["model"] == "gpt-4.1"
    # under /codex/v1 the web upstream's gpt-4o is no candidate: the alias (the default model) is
    assert (await chat(base, "/codex/v1/chat/completions", "gpt-4o"))[0] == 200
    assert reached(simulator) == [(CODEX, "gpt-5.5"), (WEB, "gpt-4o"), (WEB, "gpt-4-1"), (CODEX, "gpt-5.5")]


async def test_a_gpt_is_called_by_its_gizmo_name(both: Served, simulator: RunningSimulator) -> None:
    status, body = await chat(both.base_url, "/v1/chat/completions", "gpt-4o-gizmo-g-p-abc123")
    assert status == 200
    assert body["choices"][0]["message"]["content"] == "[g-p-abc123] Hello! You said: hi."
    [turn] = [r["body"] for r in simulator.state.requests if r["path"] == WEB]
    assert turn["conversation_mode"] == {"kind": "gizmo_interaction", "gizmo_id": "g-p-abc123"}
    status, body = await chat(both.base_url, "/v1/chat/completions", "gpt-4o-gizmo-x")
    assert status == 404 and body["error"]["code"] == "model_not_found"
    assert "gizmo-g-<id>" in body["error"]["message"]


async def test_a_codex_model_is_not_served_under_the_web_prefix(both: Served) -> None:
    status, body = await chat(both.base_url, "/chatgpt/v1/chat/completions", "gpt-5.5")
    assert status == 404
    assert body["error"]["message"].startswith(
        "The model 'gpt-5.5' does not exist or is not served by the chatgpt_web upstream"
    )


async def test_what_the_web_backend_cannot_do_is_a_clear_400(both: Served) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    status, body = await chat(both.base_url, "/v1/chat/completions", "gpt-4o", tools=[tool])
    assert status == 400 and "function" in body["error"]["message"]


async def test_the_model_list_says_where_each_model_is_served(both: Served) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(both.base_url + "/v1/models") as resp:
            every = {m["id"]: m["upstream"] for m in orjson.loads(await resp.read())["data"]}
        async with http.get(both.base_url + "/chatgpt/v1/models") as resp:
            web = {m["id"]: m["upstream"] for m in orjson.loads(await resp.read())["data"]}
    assert every["gpt-5.5"] == "codex" and every["gpt-4o"] == "chatgpt_web" and every["o3"] == "chatgpt_web"
    assert set(web.values()) == {"chatgpt_web"} and "gpt-5.5" not in web


async def test_without_the_web_upstream_its_prefix_says_so(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url)
    try:
        status, body = await chat(served.base_url, "/chatgpt/v1/chat/completions", "gpt-4o")
    finally:
        await served.close()
    assert status == 404
    assert body["error"]["message"] == "The chatgpt_web upstream is not configured on this gateway."


async def test_the_anthropic_and_gemini_lists_show_the_web_models_and_where(both: Served) -> None:
    async with aiohttp.ClientSession() as http:
        headers = {"anthropic-version": "2023-06-01"}
        async with http.get(both.base_url + "/v1/models?limit=1000", headers=headers) as resp:
            anthropic = {m["id"]: m for m in orjson.loads(await resp.read())["data"]}
        async with http.get(both.base_url + "/v1beta/models?pageSize=1000") as resp:
            gemini = {m["name"]: m for m in orjson.loads(await resp.read())["models"]}
    assert anthropic["gpt-4o"]["upstream"] == "chatgpt_web" and anthropic["o3"]["upstream"] == "chatgpt_web"
    assert anthropic["gpt-5.5"]["upstream"] == "codex"
    assert anthropic["claude-opus-4-8"]["upstream"] == "codex"  # an alias of the default model
    assert gemini["models/gpt-4o"]["description"] == (
        "gpt-4o, served by gptgate with the upstream model gpt-4o from the chatgpt_web upstream."
    )
    assert gemini["models/gpt-5.5"]["description"].endswith("from the codex upstream.")


#: the model list of the Tokens "ChatGPT" platform doc (its users send these names unchanged)
TOKENS_WEB_MODELS = (
    "gpt-4", "gpt-4o", "gpt-4o-mini", "gpt-4-5", "gpt-4-1-mini", "gpt-4-1", "gpt-5", "gpt-5-thinking",
    "gpt-5-pro", "o3", "o3-mini", "o4-mini", "o4-mini-high", "o1-pro", "o3-pro", "gpt-4o-image",
)  # fmt: skip


async def test_every_model_the_tokens_doc_lists_is_served_under_chatgpt_v1(both: Served) -> None:
    async with aiohttp.ClientSession() as http:
        for name in TOKENS_WEB_MODELS:
            async with http.get(f"{both.base_url}/chatgpt/v1/models/{name}") as resp:
                body = orjson.loads(await resp.read())
                assert (resp.status, body.get("upstream")) == (200, "chatgpt_web"), name
