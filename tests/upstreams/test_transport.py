"""Both transports against the simulator, and compressed client bodies (Codex CLI sends zstd)."""

from __future__ import annotations

import aiohttp
import orjson
import pytest
import zstandard

from gptgate.simulator.server import RunningSimulator
from tests.support import Served, chat_chunks, start_gateway


@pytest.mark.parametrize("transport", ["aiohttp", "curl_cffi"])
async def test_transport_streams_and_folds(simulator: RunningSimulator, transport: str) -> None:
    served = await start_gateway(simulator.base_url, codex_transport=transport)
    try:
        async with aiohttp.ClientSession() as http:
            payload = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hey"}]}
            async with http.post(
                served.base_url + "/v1/chat/completions", json={**payload, "stream": True}
            ) as resp:
                chunks = chat_chunks(await resp.read())
            async with http.post(served.base_url + "/v1/chat/completions", json=payload) as resp:
                reply = await resp.json()
            async with http.post(
                served.base_url + "/v1/chat/completions",
                json={**payload, "messages": [{"role": "user", "content": "[[sim:usage_limit]]"}]},
            ) as resp:
                assert resp.status == 429 and "Retry-After" in resp.headers
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if isinstance(c, dict))
        assert text == reply["choices"][0]["message"]["content"] == "Hello! You said: hey."
    finally:
        await served.close()


async def test_zstd_request_body_from_the_client(gateway: Served) -> None:
    body = orjson.dumps({"model": "gpt-5.5", "input": "compressed", "stream": False})
    headers = {"content-type": "application/json", "content-encoding": "zstd"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            gateway.base_url + "/v1/responses",
            data=zstandard.ZstdCompressor().compress(body),
            headers=headers,
        ) as resp,
    ):
        assert resp.status == 200
        assert (await resp.json())["status"] == "completed"
