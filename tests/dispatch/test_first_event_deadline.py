"""first_byte_timeout bounds the wait for a turn's first event, from the request on: an upstream
that never answers, or answers and then sends nothing, is a 504 in the client's envelope."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from tests.support import start_gateway, start_raw_upstream

CREATED = b'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1"}}\n\n'


async def silent_headers(request: web.Request) -> web.StreamResponse:
    await request.read()
    await asyncio.sleep(30)  # never answers within the test
    return web.Response(status=200)


async def silent_stream(request: web.Request) -> web.StreamResponse:
    await request.read()
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    await resp.write(CREATED)  # the preamble, then nothing
    await asyncio.sleep(30)
    return resp


@pytest.mark.parametrize("handler", [silent_headers, silent_stream])
async def test_no_first_event_in_time_is_a_504_envelope(handler: object) -> None:
    upstream = await start_raw_upstream(handler)  # type: ignore[arg-type]
    served = await start_gateway(upstream.base_url, first_byte_timeout=0.3, retry_times=0)
    try:
        payload = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.post(served.base_url + "/v1/chat/completions", json=payload) as resp,
        ):
            body = await resp.json()
        assert resp.status == 504
        assert body["error"]["code"] == "upstream_timeout"
        assert body["error"]["message"].endswith("the upstream sent no first event in time")
    finally:
        await served.close()
        await upstream.close()
