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


async def test_a_burst_leaves_a_bounded_number_of_idle_upstream_connections() -> None:
    """200 requests at once open 200 connections; released, they stay reusable for the grace
    period (a next wave reuses them), then at most ``idle_connections`` stay."""
    import asyncio

    from aiohttp import web

    from gptgate.upstreams.transport import AiohttpTransport, BoundedConnector
    from tests.support import serve_app

    gate = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await gate.wait()  # hold every request until all 200 are open
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/x", slow)
    runner, base = await serve_app(app)
    transport = AiohttpTransport(
        connect_timeout=5, idle_timeout=30, limit=1024, idle_connections=8, idle_grace=1.0
    )
    try:

        async def one() -> int:
            resp = await transport.post(base + "/x", {}, b"{}")
            await resp.read()
            await resp.aclose(True)
            return resp.status

        calls = [asyncio.ensure_future(one()) for _ in range(200)]
        await asyncio.sleep(0.5)
        gate.set()
        assert await asyncio.gather(*calls) == [200] * 200
        connector = transport._client().connector
        assert isinstance(connector, BoundedConnector)
        assert connector.idle() > 8  # within the grace period: a next wave finds them
        for _ in range(50):  # the grace period ends (bounded wait)
            await asyncio.sleep(0.1)
            if connector.idle() <= 8:
                break
        assert connector.idle() == 8
    finally:
        await transport.close()
        await runner.cleanup()


async def test_a_response_that_forgot_its_headers_still_streams_and_reuses_its_connection() -> None:
    from aiohttp import web

    from gptgate.upstreams.transport import AiohttpTransport, BoundedConnector
    from tests.support import serve_app

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=b"data: 1\n\n", headers={"x-codex-plan-type": "plus"})

    app = web.Application()
    app.router.add_post("/x", answer)
    runner, base = await serve_app(app)
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=30, limit=4)
    try:
        for _ in range(2):
            resp = await transport.post(base + "/x", {"user-agent": "t", "authorization": "Bearer s"}, b"{}")
            assert resp.headers["x-codex-plan-type"] == "plus"
            resp.forget_headers()
            assert dict(resp.headers) == {}
            assert (
                isinstance(resp, aiohttp.ClientResponse) and not resp.request_info.headers
            )  # the request's too
            assert b"".join([chunk async for chunk in resp.chunks()]) == b"data: 1\n\n"
            await resp.aclose(True)
        connector = transport._client().connector
        assert isinstance(connector, BoundedConnector) and connector.idle() == 1  # one connection, reused
    finally:
        await transport.close()
        await runner.cleanup()


async def test_a_request_without_a_user_agent_sends_none_and_one_with_it_sends_its_own() -> None:
    from aiohttp import web

    from gptgate.upstreams.transport import AiohttpTransport
    from tests.support import serve_app

    agents: list[str | None] = []

    async def answer(request: web.Request) -> web.Response:
        agents.append(request.headers.get("User-Agent"))
        return web.Response(body=b"{}")

    app = web.Application()
    app.router.add_route("*", "/x", answer)
    runner, base = await serve_app(app)
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=30, limit=4)
    try:
        for headers in ({}, {"user-agent": "codex_cli_rs/0.169.0"}, {"User-Agent": "Mozilla/5.0"}):
            resp = await transport.post(base + "/x", dict(headers), b"{}")
            await resp.read()
            await resp.aclose(True)
            resp = await transport.request("PUT", base + "/x", dict(headers), None)
            await resp.aclose(True)
            status, _, _ = await transport.get(base + "/x", dict(headers))
            assert status == 200
    finally:
        await transport.close()
        await runner.cleanup()
    assert agents == [None] * 3 + ["codex_cli_rs/0.169.0"] * 3 + ["Mozilla/5.0"] * 3


async def test_a_request_sends_the_headers_aiohttp_itself_sends_in_the_same_order() -> None:
    """The transport's request class copies the headers in one call (``_Request``): the wire is
    what aiohttp's own request sends, a caller's ``Host`` included."""
    from aiohttp import web

    from gptgate.upstreams.transport import AiohttpTransport
    from tests.support import serve_app

    seen: list[list[tuple[bytes, bytes]]] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(list(request.raw_headers))
        return web.Response(body=b"{}")

    app = web.Application()
    app.router.add_post("/x", answer)
    runner, base = await serve_app(app)
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=30, limit=4)
    cases: list[dict[str, str]] = [
        {
            "authorization": "Bearer s",
            "user-agent": "t",
            "Accept": "text/event-stream",
            "x-b": "2",
            "x-a": "1",
        },
        {"user-agent": "t", "HOST": "elsewhere.example", "x-a": "1"},
        {},
    ]
    try:
        async with aiohttp.ClientSession() as plain:
            for headers in cases:
                resp = await transport.post(base + "/x", dict(headers), b"{}")
                await resp.read()
                await resp.aclose(True)
                async with plain.post(base + "/x", headers=dict(headers), data=b"{}") as answer_:
                    await answer_.read()
    finally:
        await transport.close()
        await runner.cleanup()
    ours, theirs = seen[0::2], seen[1::2]
    for mine, aiohttps in zip(ours, theirs, strict=True):
        if (b"User-Agent", aiohttp.http.SERVER_SOFTWARE.encode()) in aiohttps:  # sent with none of ours
            aiohttps.remove((b"User-Agent", aiohttp.http.SERVER_SOFTWARE.encode()))
        assert mine == aiohttps
    assert (b"HOST", b"elsewhere.example") in ours[1]
