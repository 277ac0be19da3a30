"""Two or more web gateway URLs with some failing: every request still answers, none fails.

The gateway's ``chatgpt_base_urls`` lists a URL nothing listens on, one that answers 502 and the
simulator; many requests (streamed and not, on two doors) all succeed with the simulator's
answer, so the failover is invisible to clients.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest

from gptgate.simulator.server import RunningSimulator
from tests.support import Served, replay, start_gateway
from tests.upstreams.chatgpt_web.raw import start_raw_web_upstream

REQUESTS = 60


def dead_url() -> str:
    """A loopback URL nothing listens on (a port just bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def failing() -> AsyncIterator[Served]:
    served = await start_raw_web_upstream(
        replay(b"<html>bad gateway</html>", 502, {"content-type": "text/html"})
    )
    try:
        yield served
    finally:
        await served.close()


async def one(http: aiohttp.ClientSession, base: str, i: int) -> tuple[int, str]:
    """Request ``i``: chat or Anthropic, streamed or not; its status and its answer text."""
    stream = i % 2 == 0
    text = f"turn {i}"
    if i % 4 < 2:
        body = {"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": text}]}
        async with http.post(base + "/v1/chat/completions", data=orjson.dumps(body)) as resp:
            raw = await resp.read()
            if not stream or resp.status != 200:
                data = orjson.loads(raw)
                return resp.status, data["choices"][0]["message"]["content"] if resp.status == 200 else str(
                    data
                )
            chunks = [orjson.loads(line[6:]) for line in raw.split(b"\n") if line.startswith(b"data: {")]
            return resp.status, "".join(
                c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
            )
    body = {
        "model": "gpt-4o",
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }
    async with http.post(base + "/v1/messages", data=orjson.dumps(body)) as resp:
        raw = await resp.read()
        if not stream or resp.status != 200:
            data = orjson.loads(raw)
            return resp.status, data["content"][0]["text"] if resp.status == 200 else str(data)
        events = [orjson.loads(line[6:]) for line in raw.split(b"\n") if line.startswith(b"data: ")]
        if any(e["type"] == "error" for e in events):
            return 500, str(events)
        return resp.status, "".join(
            e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta"
        )


async def test_requests_fail_over_with_no_client_visible_error(
    simulator: RunningSimulator, failing: Served
) -> None:
    bases = [dead_url(), failing.base_url, simulator.base_url]
    gateway = await start_gateway(simulator.base_url, chatgpt_base_urls=bases, retry_times=0)
    try:
        async with aiohttp.ClientSession() as http:
            results = []
            for batch in range(0, REQUESTS, 10):  # ten at a time
                results += await asyncio.gather(
                    *(one(http, gateway.base_url, i) for i in range(batch, batch + 10))
                )
    finally:
        await gateway.close()
    assert [status for status, _ in results] == [200] * REQUESTS
    assert [text for _, text in results] == [f"Hello! You said: turn {i}." for i in range(REQUESTS)]
    turns = [r for r in simulator.state.requests if r["path"] == "/backend-api/conversation"]
    assert len(turns) == REQUESTS  # each served once, by the one base that works
