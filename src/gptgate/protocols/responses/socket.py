"""``GET /v1/responses`` (and ``/backend-api/codex/responses``) upgraded to a WebSocket.

The official Responses WebSocket, as Codex CLI speaks it (codex-backend.md §1.5): each client
text frame is ``{"type": "response.create", ...the Responses body}``; the server answers with
one text frame per stream event, exactly the payloads of the SSE ``data:`` lines. The first
frame of a session is a warm-up (``"generate": false``), answered here with
created / in_progress / completed and no output, without spending an upstream turn. Later
frames carry ``previous_response_id`` and only the new items; the socket's
:class:`ThreadMemory` expands them (``memory.py``).

Each turn is one call of its own (``new_call``), served by the one turn-serving path
(``open_turn``) and closed through the observers like an HTTP call, so usage, limits and
metrics count every turn. The socket keeps one session key, so the pool's sticky map keeps its
turns on one account; when that account cools down the next turn moves on (never a turn in
flight). Failures before the first event are in-band ``error`` frames with the HTTP status the
call would have had (the wrapped error event Codex reads); a failure after it is the upstream's
own ``response.failed``. Turns are served one at a time in arrival order by one task while the
handler keeps reading, so a client that closes mid-turn cancels the turn and its upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import orjson
from aiohttp import WSMsgType, web

from gptgate import SERVER_NAME
from gptgate.accounts.model import Account
from gptgate.dispatch.context import CallContext
from gptgate.errors import GatewayError, RequestError
from gptgate.gateway import Gateway
from gptgate.http import call_of, gateway_of, new_call, unique_hex
from gptgate.observability.logs import REQUEST_ID
from gptgate.protocols.responses.encode import ResponsesStreamEncoder
from gptgate.protocols.responses.memory import OutputCollector, ThreadMemory
from gptgate.protocols.responses.routes import ResponsesTurn
from gptgate.protocols.turn import open_turn
from gptgate.streaming.websocket import send_json_frame, send_stream
from gptgate.types import JSONObject

#: client messages that need no answer (Codex acknowledges a processed response)
ACKS = frozenset({"response.processed"})
_DATA = (WSMsgType.TEXT, WSMsgType.BINARY)


class UpgradeRequired(RequestError):
    status = 426
    code = "upgrade_required"


async def responses_socket(request: web.Request) -> web.StreamResponse:
    """Upgrade and serve turns until the client closes; a plain GET is told to upgrade."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise UpgradeRequired("This path takes a WebSocket upgrade; POST the request for HTTP streaming.")
    gateway = gateway_of(request)
    settings = gateway.settings
    ws = web.WebSocketResponse(
        heartbeat=settings.keepalive_seconds,
        max_msg_size=settings.max_body_bytes,
        compress=False,  # per-frame deflate costs CPU per event; the client copes without it
        decode_text=False,
    )
    ws.headers["Server"] = SERVER_NAME  # the handshake is prepared here, before the guard sees it
    await ws.prepare(request)
    await ResponsesSocket(request, ws, gateway).run()
    return ws


class ResponsesSocket:
    """One client socket: its session key, what it carried, the account that served it last."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, gateway: Gateway) -> None:
        self.request = request
        self.ws = ws
        self.gateway = gateway
        self.owner = call_of(request)  # the upgrade's call: the client key, a pinned upstream
        self.memory = ThreadMemory(gateway.settings.max_body_bytes)
        self.session: str | None = None
        self.account: Account | None = None

    async def run(self) -> None:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        worker = asyncio.create_task(self._serve(queue))
        try:
            async for msg in self.ws:
                if msg.type in _DATA:
                    data = msg.data
                    queue.put_nowait(data if isinstance(data, bytes) else data.encode())
                if worker.done():
                    break
        finally:
            worker.cancel()  # a turn in flight ends here: its upstream request is closed
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _serve(self, queue: asyncio.Queue[bytes]) -> None:
        while True:
            await self.turn(await queue.get())

    async def turn(self, data: bytes) -> None:
        """One client message: a warm-up, an acknowledgement, or a turn served upstream."""
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            await self._error(RequestError("The message is not valid JSON.", code="invalid_json"))
            return
        kind = message.pop("type", None) if isinstance(message, dict) else None
        if kind in ACKS:
            return
        if kind != "response.create":
            error = RequestError(
                f"Unsupported message type {str(kind)[:60]!r}: send 'response.create'.", param="type"
            )
            await self._error(error)
            return
        if message.get("generate") is False:
            await self._warm_up(message, len(data))
            return
        await self._model_turn(message, len(data))

    async def _model_turn(self, body: JSONObject, size: int) -> None:
        call = self._call()
        status = 200
        try:
            size = self.memory.expand(body, size, drop_reasoning=self._moved_on())
            body["stream"] = True
            turn = ResponsesTurn(body, self.request, self.gateway.settings)
            call.session = self._session_key(turn.req.session_key)
            stream = await open_turn(self.gateway, call, turn)
            self.account = stream.account
            collect = OutputCollector()
            await send_stream(self.ws, stream, ResponsesStreamEncoder(), collect)
            terminal = call.terminal
            response = terminal.get("response") if terminal is not None else None
            if (
                terminal is not None
                and terminal.get("type") == "response.completed"
                and isinstance(response, dict)
            ):
                output = collect.output(terminal)
                self.memory.remember(str(response.get("id")), turn.req.input, output, size + collect.size)
        except GatewayError as exc:
            call.error, status = exc, exc.status
            await self._error(exc)
        except ConnectionError:
            status = 499  # the client left mid-turn (the stream is closed already)
        except asyncio.CancelledError:
            status = 499  # the socket closed mid-turn: the upstream request is closed on the way out
            raise
        finally:
            call.status = status
            await self.gateway.observers.call_closed(call)

    def _call(self) -> CallContext:
        call = new_call(self.request)
        owner = self.owner
        call.key, call.byo, call.door = owner.key, owner.byo, "responses"
        call.upstream = call.upstream or owner.upstream
        REQUEST_ID.set(call.request_id)
        return call

    def _session_key(self, requested: str | None) -> str:
        """The socket's one session key: the first turn's, else the client's header, else made."""
        if self.session is None:
            headers = self.request.headers
            self.session = (
                requested or headers.get("session-id") or headers.get("session_id") or "ws-" + unique_hex()
            )
        return self.session

    def _moved_on(self) -> bool:
        """Will this turn leave the account that served the last one (it is cooling down)?"""
        account = self.account
        return account is not None and (account.cooling() or not account.usable)

    async def _warm_up(self, body: JSONObject, size: int) -> None:
        """``generate: false``: created / in_progress / completed, no output, no upstream turn."""
        try:
            size = self.memory.expand(body, size)
        except GatewayError as exc:
            await self._error(exc)
            return
        response_id = "resp_" + unique_hex()
        for frame in warm_up_frames(response_id, body):
            await send_json_frame(self.ws, frame)
        request_input = body.get("input")
        self.memory.remember(response_id, request_input if isinstance(request_input, list) else [], [], size)

    async def _error(self, error: GatewayError) -> None:
        with contextlib.suppress(ConnectionError):
            await send_json_frame(self.ws, error_frame(error))


def error_frame(error: GatewayError) -> bytes:
    """The wrapped error event: the call's HTTP status, its OpenAI error object, its headers."""
    body: JSONObject = {
        "type": "error",
        "status": error.status,
        "error": {"type": error.type, "code": error.code, "message": error.message, "param": error.param},
    }
    headers = {k.lower(): v for k, v in error.headers.items()}
    if headers:
        body["headers"] = headers
    return orjson.dumps(body)


def warm_up_frames(response_id: str, body: JSONObject) -> list[bytes]:
    response: JSONObject = {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "model": body.get("model"),
        "output": [],
        "previous_response_id": None,
        "store": False,
        "usage": None,
    }
    created = {"type": "response.created", "sequence_number": 0, "response": response}
    progress = {"type": "response.in_progress", "sequence_number": 1, "response": response}
    done = {**response, "status": "completed", "usage": ZERO_USAGE}
    completed = {"type": "response.completed", "sequence_number": 2, "response": done}
    return [orjson.dumps(created), orjson.dumps(progress), orjson.dumps(completed)]


ZERO_USAGE: JSONObject = {
    "input_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 0,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 0,
}
