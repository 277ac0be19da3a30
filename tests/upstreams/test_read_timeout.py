"""The aiohttp transport's read timeout (``idle_timeout``, aiohttp's ``sock_read``) runs on one
timer per connector: a read only stamps a due time, and an upstream that goes silent mid-body
or before its headers still fails with aiohttp's own ``SocketTimeoutError``. The silences here
are real (an upstream that stops writing); the test bounds every wait, it times nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from gptgate.upstreams.read_timeout import SweptResponseHandler
from gptgate.upstreams.transport import AiohttpTransport

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
CHUNK = b"data: one\n\n"
FRAMED = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)


async def serve(behaviour: str) -> tuple[asyncio.Server, str]:
    """``stall-body``: headers and one chunk, then silence; ``stall-head``: silence at once;
    ``complete``: headers, one chunk, the end."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if behaviour != "stall-head":
            writer.write(HEAD + FRAMED + (b"0\r\n\r\n" if behaviour == "complete" else b""))
            await writer.drain()
        try:
            await reader.read()  # until the client hangs up
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/stream"


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    t = AiohttpTransport(connect_timeout=5, idle_timeout=0.2, limit=8)
    yield t
    await t.close()


async def test_an_upstream_silent_mid_body_fails_the_read_with_aiohttps_timeout(
    transport: AiohttpTransport,
) -> None:
    server, url = await serve("stall-body")
    async with server, asyncio.timeout(10):
        resp = await transport.post(url, {"content-type": "application/json"}, b"{}")
        protocol = resp.connection.protocol  # type: ignore[attr-defined]
        assert isinstance(protocol, SweptResponseHandler)
        chunks = resp.chunks()
        assert await chunks.__anext__() == CHUNK
        assert protocol._read_timeout_handle is None  # no loop timer per read
        with pytest.raises(aiohttp.SocketTimeoutError):
            await chunks.__anext__()
        await resp.aclose(False)


async def test_an_upstream_silent_before_its_headers_fails_the_request(transport: AiohttpTransport) -> None:
    server, url = await serve("stall-head")
    async with server, asyncio.timeout(10):
        with pytest.raises(aiohttp.SocketTimeoutError):
            await transport.post(url, {"content-type": "application/json"}, b"{}")


async def test_a_complete_answer_leaves_no_read_timeout_running(transport: AiohttpTransport) -> None:
    server, url = await serve("complete")
    async with server, asyncio.timeout(10):
        resp = await transport.post(url, {"content-type": "application/json"}, b"{}")
        assert [c async for c in resp.chunks()] == [CHUNK]
        await resp.aclose(True)
        connector = transport._client().connector
        assert len(connector._read_timeouts) == 0  # type: ignore[union-attr]
