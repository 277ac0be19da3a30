"""Generated images and web search through every door, over real sockets (gateway + simulator),
streamed and not: Chat (markdown image link, ``annotations``), Anthropic (``image`` block,
``server_tool_use`` + ``web_search_tool_result``, ``citations``), Gemini (``inlineData``,
``groundingMetadata``) and Responses (the items passed through)."""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from gptgate.simulator.hosted import IMAGE_ANSWER, cited_text
from gptgate.simulator.server import RunningSimulator
from tests.support import Served, chat_chunks, sse_data, start_gateway

IMAGE_TOOL = {"type": "image_generation", "size": "64x32"}
TEXT, ANNOTATIONS = cited_text("gptgate")
FIRST = "([Example Domain](https://example.com/search-result-1))"
SECOND = "([Example Organisation](https://example.org/search-result-2))"
CHAT_ANNOTATIONS = [
    {
        "type": "url_citation",
        "url_citation": {
            "end_index": TEXT.index(FIRST) + len(FIRST),
            "start_index": TEXT.index(FIRST),
            "title": "Example Domain",
            "url": "https://example.com/search-result-1",
        },
    },
    {
        "type": "url_citation",
        "url_citation": {
            "end_index": TEXT.index(SECOND) + len(SECOND),
            "start_index": TEXT.index(SECOND),
            "title": "Example Organisation",
            "url": "https://example.org/search-result-2",
        },
    },
]
ANTHROPIC_CITATIONS = [
    {
        "type": "web_search_result_location",
        "cited_text": FIRST,
        "url": "https://example.com/search-result-1",
        "title": "Example Domain",
        "encrypted_index": "",
    },
    {
        "type": "web_search_result_location",
        "cited_text": SECOND,
        "url": "https://example.org/search-result-2",
        "title": "Example Organisation",
        "encrypted_index": "",
    },
]
GROUNDING = {
    "webSearchQueries": ["gptgate"],
    "groundingChunks": [
        {"web": {"uri": "https://example.com/search-result-1", "title": "Example Domain"}},
        {"web": {"uri": "https://example.org/search-result-2", "title": "Example Organisation"}},
    ],
    "groundingSupports": [
        {
            "segment": {
                "startIndex": TEXT.index(FIRST),
                "endIndex": TEXT.index(FIRST) + len(FIRST),
                "text": FIRST,
            },
            "groundingChunkIndices": [0],
        },
        {
            "segment": {
                "startIndex": TEXT.index(SECOND),
                "endIndex": TEXT.index(SECOND) + len(SECOND),
                "text": SECOND,
            },
            "groundingChunkIndices": [1],
        },
    ],
}


@pytest.fixture
async def served(simulator: RunningSimulator) -> AsyncIterator[Served]:
    gateway = await start_gateway(simulator.base_url)
    yield gateway
    await gateway.close()


async def post(base: str, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> bytes:
    async with aiohttp.ClientSession() as http, http.post(base + path, json=body, headers=headers) as resp:
        raw = await resp.read()
        assert resp.status == 200, raw
        return raw


async def download(url: str) -> bytes:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
        return await resp.read()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def upstream_tools(simulator: RunningSimulator) -> list[Any]:
    bodies = [r["body"] for r in simulator.state.requests if r["path"].endswith("/responses")]
    tools: list[Any] = bodies[-1]["tools"]
    return tools


# -- chat ---------------------------------------------------------------------------------------
def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-5.5", "messages": [{"role": "user", "content": text}], **extra}


async def test_chat_image_is_a_markdown_link(served: Served, simulator: RunningSimulator) -> None:
    body = orjson.loads(
        await post(served.base_url, "/v1/chat/completions", chat("[[sim:image]] a cat", tools=[IMAGE_TOOL]))
    )
    content = body["choices"][0]["message"]["content"]
    found = re.fullmatch(r"!\[image\]\((http://[^)]+/files/[^)]+)\)\n\n" + re.escape(IMAGE_ANSWER), content)
    assert found is not None, content
    assert found[1].startswith(served.base_url + "/files/")
    assert png_size(await download(found[1])) == (64, 32)
    assert upstream_tools(simulator) == [IMAGE_TOOL]


async def test_chat_image_streamed_and_by_modalities(served: Served, simulator: RunningSimulator) -> None:
    raw = await post(
        served.base_url, "/v1/chat/completions", chat("draw a cat", modalities=["text", "image"], stream=True)
    )
    deltas = [c["choices"][0]["delta"] for c in chat_chunks(raw) if isinstance(c, dict) and c["choices"]]
    images = [d["content"] for d in deltas if d.get("content", "").startswith("![image](")]
    assert len(images) == 1 and images[0].endswith(")\n\n")
    assert png_size(await download(images[0][len("![image](") : -3])) == (1024, 1024)
    assert upstream_tools(simulator) == [{"type": "image_generation"}]


async def test_chat_web_search_annotations(served: Served, simulator: RunningSimulator) -> None:
    options = {
        "search_context_size": "low",
        "user_location": {"type": "approximate", "approximate": {"country": "GB"}},
    }
    body = orjson.loads(
        await post(
            served.base_url,
            "/v1/chat/completions",
            chat("[[sim:search]] gptgate", web_search_options=options),
        )
    )
    message = body["choices"][0]["message"]
    assert message["content"] == TEXT
    assert message["annotations"] == CHAT_ANNOTATIONS
    assert upstream_tools(simulator) == [
        {
            "type": "web_search",
            "search_context_size": "low",
            "user_location": {"type": "approximate", "country": "GB"},
        }
    ]


async def test_chat_search_model_streams_annotations(served: Served, simulator: RunningSimulator) -> None:
    raw = await post(
        served.base_url,
        "/v1/chat/completions",
        chat("look up gptgate", model="gpt-5.5-search-preview", stream=True),
    )
    chunks = [c for c in chat_chunks(raw) if isinstance(c, dict)]
    assert {c["model"] for c in chunks} == {"gpt-5.5-search-preview"}
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    text_, annotations = cited_text("look up gptgate")
    expected = [
        {
            "type": "url_citation",
            "url_citation": {k: a[k] for k in ("end_index", "start_index", "title", "url")},
        }
        for a in annotations
    ]
    assert [d["annotations"] for d in deltas if "annotations" in d] == [expected]
    text = "".join(d.get("content") or "" for d in deltas)
    assert text == text_
    assert upstream_tools(simulator) == [{"type": "web_search"}]


# -- anthropic ----------------------------------------------------------------------------------
ANTHROPIC = {"anthropic-version": "2023-06-01"}


def messages(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


SEARCH_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}


async def test_anthropic_web_search_blocks_and_citations(served: Served) -> None:
    raw = await post(
        served.base_url, "/v1/messages", messages("[[sim:search]] gptgate", tools=[SEARCH_TOOL]), ANTHROPIC
    )
    content = [b for b in orjson.loads(raw)["content"] if b["type"] != "thinking"]
    use_id = content[0]["id"]
    assert re.fullmatch(r"srvtoolu_ws_[A-Za-z0-9_-]+", use_id)
    assert content == [
        {"type": "server_tool_use", "id": use_id, "name": "web_search", "input": {"query": "gptgate"}},
        {"type": "web_search_tool_result", "tool_use_id": use_id, "content": []},
        {"type": "text", "text": TEXT, "citations": ANTHROPIC_CITATIONS},
    ]
    assert orjson.loads(raw)["stop_reason"] == "end_turn"


async def test_anthropic_web_search_streamed(served: Served) -> None:
    body = messages("[[sim:search]] gptgate", tools=[SEARCH_TOOL], stream=True)
    events = [orjson.loads(d) for d in sse_data(await post(served.base_url, "/v1/messages", body, ANTHROPIC))]
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    kinds = [b["type"] for b in starts if b["type"] != "thinking"]
    assert kinds == ["server_tool_use", "web_search_tool_result", "text"]
    use = next(b for b in starts if b["type"] == "server_tool_use")
    assert use == {"type": "server_tool_use", "id": use["id"], "name": "web_search", "input": {}}
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    assert {"type": "input_json_delta", "partial_json": '{"query":"gptgate"}'} in deltas
    assert [d["citation"] for d in deltas if d["type"] == "citations_delta"] == ANTHROPIC_CITATIONS
    assert "".join(d.get("text", "") for d in deltas if d["type"] == "text_delta") == TEXT
    stops = [e for e in events if e["type"] == "content_block_stop"]
    assert len(stops) == len(starts)


async def test_anthropic_image_block(served: Served) -> None:
    tool = {"type": "image_generation", "size": "64x32"}
    raw = await post(
        served.base_url, "/v1/messages", messages("[[sim:image]] a cat", tools=[tool]), ANTHROPIC
    )
    content = [b for b in orjson.loads(raw)["content"] if b["type"] != "thinking"]
    assert [b["type"] for b in content] == ["image", "text"]
    assert content[0]["source"]["type"] == "base64" and content[0]["source"]["media_type"] == "image/png"
    assert png_size(base64.b64decode(content[0]["source"]["data"])) == (64, 32)
    assert content[1] == {"type": "text", "text": IMAGE_ANSWER}
    stream = await post(
        served.base_url,
        "/v1/messages",
        {**messages("[[sim:image]] a cat", tools=[tool]), "stream": True},
        ANTHROPIC,
    )
    events = [orjson.loads(d) for d in sse_data(stream)]
    image = next(
        e for e in events if e["type"] == "content_block_start" and e["content_block"]["type"] == "image"
    )
    assert image["content_block"] == content[0]
    assert {"type": "content_block_stop", "index": image["index"]} in events


# -- gemini -------------------------------------------------------------------------------------
def generate(text: str, **extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


async def test_gemini_image_inline_data(served: Served, simulator: RunningSimulator) -> None:
    body = generate("[[sim:image]] a cat", generationConfig={"responseModalities": ["TEXT", "IMAGE"]})
    raw = await post(served.base_url, "/v1beta/models/gpt-5.5:generateContent", body)
    parts = orjson.loads(raw)["candidates"][0]["content"]["parts"]
    inline = [p for p in parts if "inlineData" in p]
    assert len(inline) == 1 and inline[0]["inlineData"]["mimeType"] == "image/png"
    assert png_size(base64.b64decode(inline[0]["inlineData"]["data"])) == (1024, 1024)
    assert {"text": IMAGE_ANSWER} in [{"text": p["text"]} for p in parts if p.get("text")]
    assert upstream_tools(simulator) == [{"type": "image_generation"}]
    stream = await post(served.base_url, "/v1beta/models/gpt-5.5:streamGenerateContent?alt=sse", body)
    chunks = [orjson.loads(d) for d in sse_data(stream)]
    streamed = [p for c in chunks for p in c["candidates"][0]["content"]["parts"] if "inlineData" in p]
    assert streamed[0]["inlineData"]["mimeType"] == "image/png"


async def test_gemini_google_search_grounding(served: Served, simulator: RunningSimulator) -> None:
    body = generate("[[sim:search]] gptgate", tools=[{"googleSearch": {}}])
    candidate = orjson.loads(await post(served.base_url, "/v1beta/models/gpt-5.5:generateContent", body))[
        "candidates"
    ][0]
    assert candidate["groundingMetadata"] == GROUNDING
    assert "".join(p.get("text", "") for p in candidate["content"]["parts"] if not p.get("thought")) == TEXT
    assert upstream_tools(simulator) == [{"type": "web_search"}]
    stream = await post(served.base_url, "/v1beta/models/gpt-5.5:streamGenerateContent?alt=sse", body)
    chunks = [orjson.loads(d) for d in sse_data(stream)]
    assert chunks[-1]["candidates"][0]["groundingMetadata"] == GROUNDING
    assert all("groundingMetadata" not in c["candidates"][0] for c in chunks[:-1])


# -- responses ----------------------------------------------------------------------------------
async def test_responses_web_search_passes_through(served: Served, simulator: RunningSimulator) -> None:
    body = {"model": "gpt-5.5", "input": "[[sim:search]] gptgate", "tools": [{"type": "web_search"}]}
    response = orjson.loads(await post(served.base_url, "/v1/responses", body))
    kinds = [o["type"] for o in response["output"]]
    assert kinds[-2:] == ["web_search_call", "message"]
    assert response["output"][-1]["content"][0]["annotations"] == ANNOTATIONS
    assert upstream_tools(simulator) == [{"type": "web_search"}]
