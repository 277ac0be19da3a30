"""HTTP transports for upstreams: aiohttp (default) and curl_cffi (browser TLS fingerprint).

Both stream a response body as chunks in the event loop: no thread per stream. A transport
response is closed with ``aclose(complete)``; an incomplete one drops its connection so the
upstream stops generating for a client that left.

Egress proxies: ``post``/``get`` take the proxy URL the request must leave through (None:
direct, the default session untouched). aiohttp sends HTTP(S) proxies through its per-request
``proxy=`` on the shared session (connections pooled per proxy) and SOCKS proxies through one
extra session per distinct proxy URL (an aiohttp-socks ``ProxyConnector``), made on first use,
kept and closed with the transport; curl_cffi takes ``proxy=`` per request. A failure of the
proxy itself (unreachable, handshake or credentials refused) is raised as ``ProxyFailed``;
a target the proxy could not reach is an ordinary connection failure (or the proxy's 5xx).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Final, Protocol, cast

import aiohttp
import aiohttp_socks
from aiohttp.client_proto import ResponseHandler
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from gptgate.due import DueTimer
from gptgate.upstreams.egress import check_proxy
from gptgate.upstreams.read_timeout import SweptResponseHandler


class TransportResponse(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    async def read(self) -> bytes: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def aclose(self, complete: bool) -> None: ...

    def forget_headers(self) -> None:
        """Let go of the answer's headers (and the request's) once they are read: an open stream
        that only reads its body does not hold them for its lifetime. ``headers`` reads empty."""
        ...


class Transport(Protocol):
    def post(
        self, url: str | URL, headers: dict[str, str], body: bytes, proxy: str | None = None
    ) -> Awaitable[TransportResponse]:
        """``url``: a string, or a ``yarl.URL`` an upstream built once (aiohttp skips parsing it)."""
        ...

    async def get(
        self, url: str, headers: dict[str, str], proxy: str | None = None
    ) -> tuple[int, Mapping[str, str], bytes]: ...

    def request(
        self,
        method: str,
        url: str | URL,
        headers: dict[str, str],
        body: bytes | None,
        proxy: str | None = None,
    ) -> Awaitable[TransportResponse]:
        """Any method, the answer streamed (file uploads to a blob URL, file downloads)."""
        ...

    async def close(self) -> None: ...


class ProxyFailed(Exception):
    """The egress proxy itself failed; ``reason`` is short and never holds the proxy's URL."""

    def __init__(self, proxy: str, reason: str) -> None:
        super().__init__(reason)
        self.proxy = proxy
        self.reason = reason


# SOCKS reply codes that speak of the target, not of the proxy (RFC 1928 §6): general failure,
# network/host unreachable, connection refused, TTL expired.
_SOCKS_TARGET_CODES = frozenset({1, 3, 4, 5, 6})
# curl with a proxy: it connects only to the proxy, so "could not connect" is the proxy's.
_CURL_PROXY_CODES = frozenset({5, 7, 97})  # COULDNT_RESOLVE_PROXY, COULDNT_CONNECT, PROXY


def _aiohttp_proxy_failure(proxy: str, exc: BaseException) -> ProxyFailed | None:
    """A ``ProxyFailed`` when ``exc`` is the proxy's own failure, else None."""
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return ProxyFailed(proxy, "unreachable")
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return ProxyFailed(proxy, "refused the credentials") if exc.status == 407 else None
    if isinstance(exc, aiohttp_socks.ProxyConnectionError):
        return ProxyFailed(proxy, "unreachable")
    if isinstance(exc, aiohttp_socks.ProxyTimeoutError):
        return ProxyFailed(proxy, "timed out")
    if isinstance(exc, aiohttp_socks.ProxyError) and exc.error_code not in _SOCKS_TARGET_CODES:
        return ProxyFailed(proxy, "refused the SOCKS handshake")
    return None


class _Response(aiohttp.ClientResponse):
    """aiohttp's response is the transport response itself (the session's ``response_class``):
    no wrapper object per request and none held while a stream is open."""

    def chunks(self) -> AsyncIterator[bytes]:
        return self.content.iter_any()

    async def aclose(self, complete: bool) -> None:
        if complete:
            self.release()
        else:
            self.close()

    def forget_headers(self) -> None:
        """aiohttp keeps the answer's headers twice (parsed and raw) and the request's in
        ``request_info``, each until the response object goes: ~2 KB per open stream with the
        Codex backend's twenty rate-limit headers. (Leans on ``_headers``, ``_raw_headers``,
        ``_request_info`` and the ``_cache`` of its cached properties, stable across aiohttp 3.x;
        were they renamed, this would save nothing and break nothing.)"""
        self._headers = _NO_HEADERS
        self._raw_headers = ()
        state = self.__dict__
        if (info := state.get("_request_info")) is not None:
            # as aiohttp builds it (its own ``__new__`` is a compatibility shim, slower)
            state["_request_info"] = tuple.__new__(
                aiohttp.RequestInfo, (info.url, info.method, _NO_HEADERS, info.real_url)
            )
        if cache := state.get("_cache"):
            cache.pop("headers", None)
            cache.pop("raw_headers", None)
            cache.pop("request_info", None)


_NO_HEADERS: Final = CIMultiDictProxy(CIMultiDict[str]())


class _Request(aiohttp.ClientRequest):
    """aiohttp's request with its headers copied in one C call (the session's ``request_class``).

    aiohttp copies a request's headers (already merged by the session into a ``CIMultiDict``)
    one at a time in a Python loop, to let a ``Host`` header replace the one it makes: ~16
    bytecodes a header, ten headers a Codex turn. Without a ``Host`` of the caller's, adding them
    all after aiohttp's own ``Host`` is that loop's result, in the same order. (Leans on
    ``update_headers`` and ``url.host_port_subcomponent``, as aiohttp 3.x has them; a request
    that names its own ``Host``, or headers of another shape, takes aiohttp's loop.)"""

    def update_headers(self, headers: Any) -> None:
        if type(headers) is not CIMultiDict or _HOST in headers:
            super().update_headers(headers)
            return
        own: CIMultiDict[str] = CIMultiDict()
        own[_HOST] = cast(str, self.url.host_port_subcomponent)
        own.extend(headers)
        self.headers = own


_HOST: Final = aiohttp.hdrs.HOST


def reader(resp: TransportResponse) -> Callable[[], Awaitable[bytes]]:
    """``resp``'s body one read at a time, ``b""`` once it has ended. For aiohttp's answer it
    is the body stream's own ``readany``: the loop reading an upstream awaits that directly,
    not through the chunk iterator's coroutine around it (one coroutine less per read)."""
    if isinstance(resp, _Response):
        return resp.content.readany
    chunks = resp.chunks()

    async def read() -> bytes:
        async for chunk in chunks:
            if chunk:  # an empty read would read as the end
                return chunk
        return b""

    return read


#: a request without its own User-Agent sends none (aiohttp would name itself); asked per request,
#: as a session-wide skip list costs every request a header merge in aiohttp
_NO_AGENT: Final = ("User-Agent",)


_Route = tuple[aiohttp.ClientSession, URL | None]


class BoundedConnector(aiohttp.TCPConnector):
    """A connector that keeps at most ``idle_max`` idle keep-alive connections per host once the
    load has passed: connections released beyond the bound stay reusable for ``grace`` seconds,
    so waves of requests (a client's concurrency cycling every few hundred milliseconds) keep
    their connections instead of connecting again each wave, then the oldest idle ones close
    down to the bound. After a burst of a thousand streams a thousand idle sockets do not wait
    out the keep-alive timeout. (aiohttp has no such bound of its own; this leans on its
    ``_release``/``_conns``, stable across its 3.x releases.)"""

    def __init__(self, *, idle_max: int, grace: float = 2.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._idle_max = idle_max
        self._grace = grace
        self._trim_handle: asyncio.TimerHandle | None = None
        # each connection's read timeout a due time, one timer for all (read_timeout.py)
        self._read_timeouts = DueTimer(self._loop)
        self._factory = cast(
            "functools.partial[ResponseHandler]",
            functools.partial(SweptResponseHandler, loop=self._loop, timeouts=self._read_timeouts),
        )

    def _release(self, key: Any, protocol: Any, *, should_close: bool = False) -> None:
        super()._release(key, protocol, should_close=should_close)
        if self._trim_handle is None and len(self._conns.get(key) or ()) > self._idle_max:
            self._trim_handle = self._loop.call_later(self._grace, self._trim)

    def _trim(self) -> None:
        """Close the oldest idle connections of each host beyond the bound."""
        self._trim_handle = None
        for key, idle in list(self._conns.items()):
            while len(idle) > self._idle_max:
                protocol, _ = idle.popleft()
                protocol.close()
            if not idle:
                del self._conns[key]

    def _close(self, *, abort_ssl: bool = False) -> list[Awaitable[object]]:
        if self._trim_handle is not None:
            self._trim_handle.cancel()
            self._trim_handle = None
        self._read_timeouts.close()
        return super()._close(abort_ssl=abort_ssl)

    def idle(self) -> int:
        """Idle keep-alive connections held now."""
        return sum(len(v) for v in self._conns.values())


class AiohttpTransport:
    """One ``ClientSession`` per process (connection pooling, keep-alive), made in the running loop;
    one more per distinct SOCKS proxy."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        idle_timeout: float,
        limit: int,
        idle_connections: int = 64,
        keepalive_seconds: float = 15.0,
        idle_grace: float = 2.0,
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=idle_timeout
        )
        self._limit = limit
        self._idle_max = idle_connections
        self._idle_grace = idle_grace
        self._keepalive = keepalive_seconds
        self._session: aiohttp.ClientSession | None = None
        self._routes: dict[str, _Route] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = BoundedConnector(
                idle_max=self._idle_max,
                grace=self._idle_grace,
                limit=self._limit,
                keepalive_timeout=self._keepalive,
                ttl_dns_cache=300,
            )
            self._session = self._new_session(connector)
        return self._session

    def _new_session(self, connector: aiohttp.BaseConnector) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=True,
            response_class=_Response,
            request_class=_Request,
            # one session serves every account: a cookie one account's reply sets (a rotated
            # web session, a challenge cookie) must never ride on another account's request
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    def _route(self, proxy: str) -> _Route:
        """The session and per-request ``proxy=`` for this proxy URL (made once, then reused)."""
        route = self._routes.get(proxy)
        if route is None or route[0].closed:
            try:
                check_proxy(proxy)
            except ValueError as exc:
                raise ProxyFailed(proxy, "unsupported proxy URL") from exc
            if proxy.startswith("socks"):
                route = (self._socks_session(proxy), None)
            else:
                route = (self._client(), URL(proxy))
            self._routes[proxy] = route
        return route

    def _socks_session(self, proxy: str) -> aiohttp.ClientSession:
        url = URL(proxy)
        socks4 = url.scheme.startswith("socks4")
        kind = aiohttp_socks.ProxyType.SOCKS4 if socks4 else aiohttp_socks.ProxyType.SOCKS5
        connector = aiohttp_socks.ProxyConnector(
            proxy_type=kind,
            host=url.host or "",
            port=url.port or 1080,
            username=url.user,
            password=url.password,
            rdns=url.scheme in ("socks5h", "socks4a"),
            limit=self._limit,
            keepalive_timeout=self._keepalive,
        )
        return self._new_session(connector)

    def post(
        self, url: str | URL, headers: dict[str, str], body: bytes, proxy: str | None = None
    ) -> Awaitable[TransportResponse]:
        return self.request("POST", url, headers, body, proxy)

    def request(
        self,
        method: str,
        url: str | URL,
        headers: dict[str, str],
        body: bytes | None,
        proxy: str | None = None,
    ) -> Awaitable[TransportResponse]:
        """Direct: aiohttp's own awaitable, no coroutine of ours around it (each layer costs every
        resumption of the request); through a proxy: ``_proxied``."""
        if proxy is not None:
            return self._proxied(method, url, headers, body, proxy)
        session = self._session
        if session is None or session.closed:
            session = self._client()
        if "user-agent" in headers:
            ctx = session.request(method, url, data=body, headers=headers)
        else:
            ctx = session.request(method, url, data=body, headers=headers, skip_auto_headers=_NO_AGENT)
        return cast("Awaitable[TransportResponse]", ctx)

    async def _proxied(
        self, method: str, url: str | URL, headers: dict[str, str], body: bytes | None, proxy: str
    ) -> TransportResponse:
        session, via = self._route(proxy)
        skip = None if "user-agent" in headers else _NO_AGENT
        try:
            resp = await session.request(
                method, url, data=body, headers=headers, proxy=via, skip_auto_headers=skip
            )
        except Exception as exc:
            if (failure := _aiohttp_proxy_failure(proxy, exc)) is None:
                raise
            raise failure from exc
        if resp.status == 407:  # a forward (non-CONNECT) proxy answers for itself
            resp.release()
            raise ProxyFailed(proxy, "refused the credentials")
        return cast(_Response, resp)

    async def websocket(
        self, url: str, headers: dict[str, str], proxy: str | None = None
    ) -> aiohttp.ClientWebSocketResponse:
        """A WebSocket (the Codex upstream's opt-in transport) on the same sessions and proxies;
        frames uncompressed (deflate would cost CPU on every event). ``headers`` name the
        User-Agent (aiohttp's ``ws_connect`` has no per-request skip list)."""
        session, via = (self._client(), None) if proxy is None else self._route(proxy)
        try:
            return await session.ws_connect(url, headers=headers, proxy=via, compress=0, max_msg_size=0)
        except Exception as exc:
            if proxy is None or (failure := _aiohttp_proxy_failure(proxy, exc)) is None:
                raise
            raise failure from exc

    async def get(
        self, url: str, headers: dict[str, str], proxy: str | None = None
    ) -> tuple[int, Mapping[str, str], bytes]:
        session, via = (self._client(), None) if proxy is None else self._route(proxy)
        try:
            skip = None if "user-agent" in headers else _NO_AGENT
            async with session.get(url, headers=headers, proxy=via, skip_auto_headers=skip) as resp:
                if resp.status == 407 and proxy is not None:
                    raise ProxyFailed(proxy, "refused the credentials")
                return resp.status, resp.headers, await resp.read()
        except Exception as exc:
            if proxy is None or (failure := _aiohttp_proxy_failure(proxy, exc)) is None:
                raise
            raise failure from exc

    async def close(self) -> None:
        sessions = [s for s, _ in self._routes.values()]
        self._routes.clear()
        if self._session is not None:
            sessions.append(self._session)
        for session in dict.fromkeys(sessions):
            await session.close()


class _CurlResponse:
    __slots__ = ("_resp", "headers", "status")

    def __init__(self, resp: Any) -> None:
        self._resp = resp
        self.status: int = resp.status_code
        self.headers: Mapping[str, str] = {k.lower(): v for k, v in resp.headers.items()}

    def forget_headers(self) -> None:
        self.headers = {}

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

    async def post(
        self, url: str | URL, headers: dict[str, str], body: bytes, proxy: str | None = None
    ) -> TransportResponse:
        return await self.request("POST", url, headers, body, proxy)

    async def request(
        self,
        method: str,
        url: str | URL,
        headers: dict[str, str],
        body: bytes | None,
        proxy: str | None = None,
    ) -> TransportResponse:
        try:
            resp = await self._client().request(
                method, str(url), headers=headers, data=body, stream=True, proxy=proxy
            )
        except Exception as exc:
            if (failure := _curl_proxy_failure(proxy, exc)) is None:
                raise
            raise failure from exc
        if resp.status_code == 407 and proxy is not None:
            await resp.aclose()
            raise ProxyFailed(proxy, "refused the credentials")
        return _CurlResponse(resp)

    async def get(
        self, url: str, headers: dict[str, str], proxy: str | None = None
    ) -> tuple[int, Mapping[str, str], bytes]:
        try:
            resp = await self._client().request("GET", url, headers=headers, proxy=proxy)
        except Exception as exc:
            if (failure := _curl_proxy_failure(proxy, exc)) is None:
                raise
            raise failure from exc
        if resp.status_code == 407 and proxy is not None:
            raise ProxyFailed(proxy, "refused the credentials")
        return int(resp.status_code), {k.lower(): v for k, v in resp.headers.items()}, bytes(resp.content)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _curl_proxy_failure(proxy: str | None, exc: BaseException) -> ProxyFailed | None:
    if proxy is None:
        return None
    try:
        check_proxy(proxy)
    except ValueError:
        return ProxyFailed(proxy, "unsupported proxy URL")
    code = getattr(exc, "code", None)
    if code in _CURL_PROXY_CODES or exc.__class__.__name__ == "ProxyError":
        return ProxyFailed(proxy, "unreachable or refused the connection")
    return None
