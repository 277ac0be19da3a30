"""A gateway served by the production runner (``gptgate.server.make_runner``: its parser
limits, quiet parser errors, ``Server`` header, access log), plus raw-socket and HTTP helpers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from gptgate.app import create_app
from gptgate.gateway import Gateway
from gptgate.server import make_runner
from gptgate.settings import Settings
from tests.support import Served, test_account

TIMEOUT = aiohttp.ClientTimeout(total=15)
TRACEBACK_MARKERS = ("Traceback", 'File "', "aiohttp/", "Error -3", "site-packages")


async def start_hardened(upstream_base: str, **overrides: Any) -> Served:
    settings = Settings(
        codex_base_url=upstream_base.rstrip("/") + "/backend-api/codex",
        **{"fetch_upstream_models": False, "account_store": False, **overrides},
    )
    gateway = Gateway(settings, [test_account()])
    runner = make_runner(create_app(gateway), access_log=logging.getLogger("gptgate.access"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return Served(runner, f"http://127.0.0.1:{runner.addresses[0][1]}", gateway)


def port_of(served: Served) -> int:
    return int(served.base_url.rsplit(":", 1)[1])


async def raw_exchange(port: int, data: bytes, wait_s: float = 5.0) -> bytes:
    """Send ``data`` as is; the bytes answered before the server closes or ``wait_s``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        out = b""
        async with asyncio.timeout(wait_s):
            while b"\r\n\r\n" not in out or not _complete(out):
                chunk = await reader.read(65536)
                if not chunk:
                    break
                out += chunk
        return out
    finally:
        writer.close()


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return False


async def send(
    base: str,
    method: str,
    path: str,
    body: bytes | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    data = orjson.dumps(body) if isinstance(body, dict) else body
    hdrs = {"content-type": "application/json", **(headers or {})}
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT, auto_decompress=False) as http,
        http.request(method, base + path, data=data, headers=hdrs) as resp,
    ):
        return resp.status, dict(resp.headers), await resp.read()
