"""HTTP transports for upstreams: aiohttp (default) and curl_cffi (browser TLS fingerprint).

Both stream a response body as chunks in the event loop: no thread per stream. A transport
response is closed with ``aclose(complete)``; an incomplete one drops its connection so the
upstream stops generating for a client that left.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import aiohttp


class TransportResponse(Protocol):
    status: int
    headers: Mapping[str, str]

    async def read(self) -> bytes: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def aclose(self, complete: bool) -> None: ...


class Transport(Protocol):
    async def post(self, url: str, headers: dict[str, str], body: bytes) -> TransportResponse: ...

    async def get(self, url: str, headers: dict[str, str]) -> tuple[int, Mapping[str, str], bytes]: ...

    async def close(self) -> None: ...


class _AiohttpResponse:
    __slots__ = ("_resp", "headers", "status")

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self._resp = resp
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers

    async def read(self) -> bytes:
        return await self._resp.read()

    def chunks(self) -> AsyncIterator[bytes]:
        return self._resp.content.iter_any()

    async def aclose(self, complete: bool) -> None:
        if complete:
            self._resp.release()
        else:
            self._resp.close()


class AiohttpTransport:
    """One ``ClientSession`` per process (connection pooling, keep-alive), made in the running loop."""

    def __init__(self, *, connect_timeout: float, idle_timeout: float, limit: int) -> None:
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=idle_timeout
        )
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, keepalive_timeout=60, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> TransportResponse:
        resp = await self._client().post(url, data=body, headers=headers)
        return _AiohttpResponse(resp)

    async def get(self, url: str, headers: dict[str, str]) -> tuple[int, Mapping[str, str], bytes]:
        async with self._client().get(url, headers=headers) as resp:
            return resp.status, resp.headers, await resp.read()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class _CurlResponse:
    __slots__ = ("_resp", "headers", "status")

    def __init__(self, resp: Any) -> None:
        self._resp = resp
        self.status: int = resp.status_code
        self.headers: Mapping[str, str] = {k.lower(): v for k, v in resp.headers.items()}

    async def read(self) -> bytes:
        parts = [chunk async for chunk in self._resp.aiter_content()]
        return b"".join(parts)

    def chunks(self) -> AsyncIterator[bytes]:
        it: AsyncIterator[bytes] = self._resp.aiter_content()
        return it

    async def aclose(self, complete: bool) -> None:
        task = getattr(self._resp, "astream_task", None)
        if not complete and task is not None and not task.done():
            task.cancel()  # curl's aclose() would read the stream to its end
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            return
        await self._resp.aclose()


class CurlCffiTransport:
    """curl_cffi with a browser TLS/HTTP2 fingerprint (the ``impersonate`` profile)."""

    def __init__(self, *, impersonate: str, connect_timeout: float, idle_timeout: float, limit: int) -> None:
        self._impersonate = impersonate
        self._timeout = (connect_timeout, idle_timeout)
        self._limit = limit
        self._session: Any = None

    def _client(self) -> Any:
        if self._session is None:
            from curl_cffi.requests import AsyncSession  # optional dependency

            self._session = AsyncSession(
                impersonate=self._impersonate, timeout=self._timeout, max_clients=self._limit
            )
        return self._session

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> TransportResponse:
        resp = await self._client().request("POST", url, headers=headers, data=body, stream=True)
        return _CurlResponse(resp)

    async def get(self, url: str, headers: dict[str, str]) -> tuple[int, Mapping[str, str], bytes]:
        resp = await self._client().request("GET", url, headers=headers)
        return int(resp.status_code), {k.lower(): v for k, v in resp.headers.items()}, bytes(resp.content)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
