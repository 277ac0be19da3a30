"""The Codex upstream over WebSocket: one more transport method (opt-in ``codex_websocket``).

The official client's preferred transport (codex-backend.md §1.5): a GET upgrade of
``…/codex/responses`` with the turn's headers plus ``OpenAI-Beta: responses_websockets=…``;
each turn is one ``response.create`` text frame (the HTTP body plus ``type``), each answer
frame one stream event's JSON, decoded by the Codex decoder like an SSE ``data:`` payload.

A socket is kept per account while idle and taken by the account's next turn, so the turns of
a client socket (kept on one account by the pool) reuse one upstream socket. Requests go out
self-contained (the client side expands ``previous_response_id``), so an upstream socket holds
no thread state and any idle socket of the account serves any turn. A turn that ends without
its terminal event, or a client that leaves, drops the socket (the upstream stops generating).

Failures before the first event are classified like the HTTP answers: a refused upgrade by its
status (426 or 404: the upstream has no WebSocket, and the HTTP transport is used from then
on), a wrapped ``error`` event by its ``status``, error body and headers. A socket that cannot
be opened at all falls back to HTTP for that turn, where base-URL failover applies.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Protocol

import aiohttp
import orjson
from aiohttp import WSMsgType

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.canonical.events import Event
from gptgate.upstreams.codex.decode import CodexStreamDecoder
from gptgate.upstreams.codex.errors import classify

log = logging.getLogger("gptgate.upstream.codex")

BETA = "responses_websockets=2026-02-06"
#: answers to the upgrade that mean "no WebSocket here": use HTTP
UNSUPPORTED = frozenset({404, 405, 426})
#: idle sockets kept per account
IDLE_PER_ACCOUNT = 4
_CREATE = b'{"type":"response.create",'
_DONE = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


class WebSocketTransport(Protocol):
    async def websocket(
        self, url: str, headers: dict[str, str], proxy: str | None = None
    ) -> aiohttp.ClientWebSocketResponse: ...


class CodexSocketStream:
    """One turn's answer on a socket; see ``UpstreamStream``."""

    __slots__ = ("_account_id", "_closed", "_decoder", "_first", "_idle", "_pool", "_ws")

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        first: list[Event],
        decoder: CodexStreamDecoder,
        pool: SocketPool,
        account_id: str,
        idle: float,
    ) -> None:
        self._ws = ws
        self._first = first
        self._decoder = decoder
        self._pool = pool
        self._account_id = account_id
        self._idle = idle
        self._closed = False

    async def batches(self) -> AsyncIterator[list[Event]]:
        decoder = self._decoder
        first, self._first = self._first, []
        if first:
            yield first
        while decoder.terminal is None:
            try:
                msg = await self._ws.receive(timeout=self._idle)
            except Exception as exc:  # a timeout or a broken connection ends the turn in-band
                yield [
                    decoder.cut("stream_disconnected", f"upstream socket broke ({exc.__class__.__name__})")
                ]
                return
            if msg.type == WSMsgType.TEXT or msg.type == WSMsgType.BINARY:
                events = decoder.payload(msg.data if isinstance(msg.data, bytes) else msg.data.encode())
                if events:
                    yield events
            elif msg.type in _DONE:
                yield [decoder.cut("stream_disconnected", "upstream socket closed before response.completed")]
                return

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._decoder.terminal is not None and not self._ws.closed:
            await self._pool.put(self._account_id, self._ws)
        else:
            await self._ws.close()


class SocketPool:
    """Idle upstream sockets per account, and the turn protocol on them."""

    def __init__(self, transport: WebSocketTransport, *, idle_timeout: float) -> None:
        self._transport = transport
        self._idle_timeout = idle_timeout
        self._idle: dict[str, list[aiohttp.ClientWebSocketResponse]] = {}
        #: the upstream refused the upgrade (426/404): HTTP from then on
        self.unsupported = False

    async def put(self, account_id: str, ws: aiohttp.ClientWebSocketResponse) -> None:
        idle = self._idle.setdefault(account_id, [])
        if len(idle) < IDLE_PER_ACCOUNT:
            idle.append(ws)
        else:
            await ws.close()

    def _take(self, account_id: str) -> aiohttp.ClientWebSocketResponse | None:
        idle = self._idle.get(account_id)
        while idle:
            ws = idle.pop()
            if not ws.closed:
                return ws
        return None

    async def open(
        self,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        proxy: str | None,
        account: Account,
        model: str | None = None,
    ) -> CodexSocketStream | None:
        """The turn's stream, or None when the socket could not be opened (use HTTP)."""
        frame = _CREATE + body[1:]
        ws = self._take(account.id)
        if ws is not None:
            stream = await self._send(ws, frame, account, reused=True, model=model)
            if stream is not None:
                return stream
        ws = await self._connect(url, headers, proxy)
        if ws is None:
            return None
        return await self._send(ws, frame, account, reused=False, model=model)

    async def _connect(
        self, url: str, headers: Mapping[str, str], proxy: str | None
    ) -> aiohttp.ClientWebSocketResponse | None:
        upgrade = {k: v for k, v in headers.items() if k not in ("content-type", "accept")}
        upgrade["openai-beta"] = BETA
        try:
            return await self._transport.websocket(url, upgrade, proxy)
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in UNSUPPORTED or exc.status < 400:
                log.warning("the codex upstream refused the WebSocket upgrade (%d): using HTTP", exc.status)
                self.unsupported = True
                return None
            raise classify(exc.status, exc.headers or {}, (exc.message or "").encode()) from None
        except Exception as exc:
            log.warning("codex WebSocket not opened (%s): this turn goes over HTTP", exc.__class__.__name__)
            return None

    async def _send(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        frame: bytes,
        account: Account,
        *,
        reused: bool,
        model: str | None = None,
    ) -> CodexSocketStream | None:
        """Send the turn and read its first event; a reused socket found dead yields None."""
        decoder = CodexStreamDecoder(model)
        try:
            await ws.send_frame(frame, WSMsgType.TEXT)
            msg = await ws.receive(timeout=self._idle_timeout)
        except Exception:
            await ws.close()
            if reused:
                return None
            raise errors.UpstreamUnavailable("the upstream socket broke before the first event") from None
        if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            await ws.close()
            if reused:
                return None
            raise errors.UpstreamUnavailable("the upstream closed the socket before the first event")
        data = msg.data if isinstance(msg.data, bytes) else msg.data.encode()
        refusal = _wrapped_error(data)
        if refusal is not None:
            await ws.close()
            raise refusal
        return CodexSocketStream(ws, decoder.payload(data), decoder, self, account.id, self._idle_timeout)

    async def close(self) -> None:
        sockets = [ws for idle in self._idle.values() for ws in idle]
        self._idle.clear()
        for ws in sockets:
            with contextlib.suppress(Exception):
                await ws.close()


def _wrapped_error(data: bytes) -> errors.UpstreamError | None:
    """A wrapped error event (``{"type":"error","status":N,"error":{…},"headers":{…}}``) as the
    error the same HTTP answer would be; None for any other frame."""
    if b"error" not in data[:64]:  # every event names its type first; an error frame says so early
        return None
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict) or payload.get("type") != "error":
        return None
    status = payload.get("status", payload.get("status_code"))
    if not isinstance(status, int) or 200 <= status < 300:
        return None
    raw = payload.get("headers")
    headers = {str(k).lower(): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    body = {k: v for k, v in payload.items() if k in ("error", "detail")}
    return classify(status, headers, orjson.dumps(body))
