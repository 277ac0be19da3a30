"""``GET /backend-api/codex/responses`` upgraded: the simulated Responses WebSocket.

As the backend speaks it (codex-backend.md §1.5): the upgrade is authenticated like a POST
(a refusal is the HTTP answer, before the upgrade); each client text frame is
``{"type": "response.create", ...body}``; each answer frame is one event's JSON (the SSE
``data:`` payload of the HTTP reply). ``"generate": false`` is the warm-up (created,
in_progress, completed, no output, no turn spent). Within one socket ``previous_response_id``
continues from the last response (its input and output are prepended), as with ``store:
false``; any other id is ``previous_response_not_found``. Refusals of a turn (validation,
faults, the usage limit) are wrapped error events ``{"type": "error", "status", "error",
"headers"}`` and the socket stays open. Every frame is recorded as ``WS-MESSAGE`` like the
captures. Paced mode sleeps between frames; the ``cut`` fault drops the socket mid-answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from gptgate.simulator.faults import FaultContext, error_for, int_param, plan_turn
from gptgate.simulator.replies import build_reply
from gptgate.simulator.state import STATE_KEY, SimulatorState
from gptgate.simulator.turn import read_turn
from gptgate.simulator.usage import usage_limit_response_parts
from gptgate.simulator.validate import Caller, Rejection, parse_json, validate_turn

MAX_FRAME_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class Thread:
    """What one socket carried: the last response id and its input + output items."""

    last_id: str | None = None
    items: list[Any] = field(default_factory=list)


async def responses_socket(request: web.Request) -> web.StreamResponse:
    from gptgate.simulator import app as sim  # the turn helpers live there (it imports this module)

    state = request.app[STATE_KEY]
    state.record(request.method, request.path, request.query_string, request.headers, None)
    if request.headers.get("upgrade", "").lower() != "websocket":
        return sim.json_response(426, {"detail": "Upgrade to a WebSocket, or POST for HTTP SSE."})
    try:
        caller = sim._caller(request, state)
    except Rejection as rejection:
        return sim.rejection_response(rejection)
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, compress=False)
    await ws.prepare(request)
    thread = Thread()
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            continue
        body = parse_json(msg.data.encode())
        state.record("WS-MESSAGE", request.path, "", {}, body)
        try:
            frames, cut = await answer(request, state, caller, body, thread)
        except Rejection as rejection:
            frames, cut = [error_frame(rejection)], False
        await send(ws, frames, state, cut)
        if cut:
            break
    return ws


async def send(ws: web.WebSocketResponse, frames: list[bytes], state: SimulatorState, cut: bool) -> None:
    paced = state.config.mode == "paced" and state.config.interval_ms > 0
    for index, frame in enumerate(frames):
        if paced and index:
            await asyncio.sleep(state.config.interval_ms / 1000)
        await ws.send_frame(frame, WSMsgType.TEXT)
    if cut:
        await ws.close()


async def answer(
    request: web.Request, state: SimulatorState, caller: Caller, message: Any, thread: Thread
) -> tuple[list[bytes], bool]:
    """The frames answering one client message, and whether the socket is then cut."""
    from gptgate.simulator import app as sim

    if not isinstance(message, dict) or message.get("type") != "response.create":
        raise Rejection(400, {"detail": "Expected a response.create message"})
    body = {k: v for k, v in message.items() if k != "type"}
    previous = body.pop("previous_response_id", None)
    if previous is not None:
        if previous != thread.last_id:
            error = {
                "code": "previous_response_not_found",
                "message": f"Previous response with id '{previous}' not found.",
            }
            raise Rejection(400, {"error": {"type": "invalid_request_error", **error}})
        body["input"] = [*thread.items, *(body.get("input") or [])]
    if body.pop("generate", True) is False:
        return warm_up(state, body, thread), False
    validate_turn(body, request.app[sim.MODELS_KEY])
    turn = read_turn(body, len(orjson.dumps(body)))
    usage = state.usage_for(caller.account_id, caller.plan)
    base = state.serial_hex()
    ctx = FaultContext(state, usage, sim._request_id(base))
    queued = state.pop_fault(caller.account_id)
    plan = plan_turn(([queued] if queued is not None else []) + turn.directives)
    delay_ms = state.config.first_byte_delay_ms + plan.delay_ms
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000)
    if plan.error_kind and plan.fault is not None:
        raise error_for(plan.fault, ctx)
    if state.quota_exhausted(usage):
        headers, error_body = usage_limit_response_parts(state, usage, ctx.request_id)
        raise Rejection(429, error_body, headers)
    state.consume_turn(usage)
    frames = [payload(record) for record in build_reply(sim._reply_context(state, turn, plan, ctx, base))]
    if plan.fault is not None and plan.fault.kind == "cut":
        after = min(max(0, int_param(plan.fault, "after", 5)), len(frames) - 1)
        return frames[:after], True
    remember(thread, body["input"], frames)
    return frames, False


def payload(record: bytes) -> bytes:
    """An SSE record's data (``event: T\\ndata: {...}\\n\\n`` -> ``{...}``)."""
    return record[record.index(b"data: ") + 6 :].rstrip(b"\n")


def remember(thread: Thread, request_input: list[Any], frames: list[bytes]) -> None:
    last = orjson.loads(frames[-1])
    if last.get("type") != "response.completed":
        return
    output = [
        event["item"]
        for event in map(orjson.loads, frames)
        if event.get("type") == "response.output_item.done"
    ]
    thread.last_id = last["response"]["id"]
    thread.items = [*request_input, *output]


def warm_up(state: SimulatorState, body: dict[str, Any], thread: Thread) -> list[bytes]:
    response_id = "resp_" + state.serial_hex()[:24]
    response: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": int(state.now()),
        "status": "in_progress",
        "model": body.get("model"),
        "output": [],
        "usage": None,
    }
    done = {**response, "status": "completed"}
    events = [
        {"type": "response.created", "sequence_number": 0, "response": response},
        {"type": "response.in_progress", "sequence_number": 1, "response": response},
        {"type": "response.completed", "sequence_number": 2, "response": done},
    ]
    input_items = body.get("input")
    thread.last_id = response_id
    thread.items = list(input_items) if isinstance(input_items, list) else []
    return [orjson.dumps(e) for e in events]


def error_frame(rejection: Rejection) -> bytes:
    """A refusal as the wrapped error event (the HTTP status, body's error, headers)."""
    body = rejection.body if isinstance(rejection.body, dict) else {}
    error = body.get("error")
    if not isinstance(error, dict):
        error = {"message": str(body.get("detail", "")), "code": None}
    frame: dict[str, Any] = {"type": "error", "status": rejection.status, "error": error}
    if rejection.headers:
        frame["headers"] = rejection.headers
    return orjson.dumps(frame)
