"""Routes of the simulated Codex backend.

=====================================  ==========================================================
``POST /backend-api/codex/responses``  a turn (SSE); ChatGPT auth: JWT + ``chatgpt-account-id``
``POST /v1/responses``                 the same turn handler; any bearer (JWT or API key)
``GET  /backend-api/codex/responses``  the Responses WebSocket (``websocket.py``); 426 without upgrade
``GET  /backend-api/codex/models``     model catalog (needs ``client_version``), with ETag
``GET  /backend-api/wham/usage``       the caller's quota windows
``.../responses/compact``, ``alpha/search``, ``wham/accounts/check``: ``codex_extras.py``
``POST /oauth/token``                  refresh-token grant with rotation (``oauth.py``), and the
                                       authorization-code grant of the device sign-in
``/api/accounts/deviceauth/...``       device-code sign-in, approved at ``/codex/device`` or
                                       ``POST /_sim/device/approve`` (``device_auth.py``)
``GET  /api/auth/session``             web session cookie → access token (``session.py``)
``/_sim/...``                          control API for tests (``control.py``)
=====================================  ==========================================================

Auth (unless ``require_auth`` is off): the bearer must be a JWT signed by this simulator whose
``exp`` is ahead of the simulated clock, else the documented 401 ``token_expired``; an account
deactivated through ``/_sim`` gets 401 ``account_deactivated`` on every route above.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from gptgate.simulator.codex_extras import add_codex_extra_routes, check_compactions, compaction_requested
from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.control import add_control_routes
from gptgate.simulator.control_accounts import add_account_control_routes
from gptgate.simulator.device_auth import add_device_auth_routes
from gptgate.simulator.faults import (
    FaultContext,
    TurnPlan,
    error_for,
    int_param,
    plan_turn,
    usage_limit_in_stream,
)
from gptgate.simulator.hosted import choose_hosted
from gptgate.simulator.models import catalog_body
from gptgate.simulator.oauth import token_endpoint
from gptgate.simulator.replies import ReplyContext, TurnIds, build_reply
from gptgate.simulator.session import session_endpoint
from gptgate.simulator.state import STATE_KEY, AccountUsage, SimulatorState
from gptgate.simulator.tools import ToolRef, choose_tools, collect_tools
from gptgate.simulator.turn import Turn, read_turn
from gptgate.simulator.usage import rate_limit_headers, usage_limit_response_parts, wham_usage_body
from gptgate.simulator.validate import (
    Caller,
    Rejection,
    authenticate,
    deactivated_error,
    decode_body,
    detail,
    parse_json,
    validate_turn,
)
from gptgate.simulator.web import add_web_routes
from gptgate.simulator.websocket import responses_socket

CATALOG_KEY: web.AppKey[tuple[bytes, str]] = web.AppKey("gptgate_simulator_catalog")
MODELS_KEY: web.AppKey[frozenset[str]] = web.AppKey("gptgate_simulator_models")
MAX_REQUEST_BYTES = 64 * 1024 * 1024
NO_TOOL_FAULTS = frozenset({"failed", "incomplete", "usage_limit_in_stream"})


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    all_headers = {"content-type": "application/json"}
    all_headers.update(headers or {})
    return web.Response(status=status, body=orjson.dumps(body), headers=all_headers)


def rejection_response(rejection: Rejection) -> web.Response:
    return json_response(rejection.status, rejection.body, rejection.headers)


def _caller(request: web.Request, state: SimulatorState) -> Caller:
    chatgpt = request.path.startswith("/backend-api/")
    caller = authenticate(
        request.headers, chatgpt=chatgpt, require_auth=state.config.require_auth, now=state.now()
    )
    if state.logins.is_deactivated(caller.account_id):
        raise deactivated_error()
    return caller


def _request_id(base: str) -> str:
    return f"{base[:8]}-{base[8:12]}-{base[12:16]}-{base[16:20]}-{base[20:32]}"


# -- turn -------------------------------------------------------------------------------------
async def responses(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    raw = await request.read()
    try:
        data = decode_body(raw, request.headers.get("content-encoding", ""))
    except Rejection as rejection:
        state.record(request.method, request.path, request.query_string, request.headers, None)
        return rejection_response(rejection)
    body = parse_json(data)
    state.record(request.method, request.path, request.query_string, request.headers, body)
    try:
        caller = _caller(request, state)
        validate_turn(body, request.app[MODELS_KEY])
        check_compactions(body, caller.account_id)  # a compaction decrypts on its own account only
        return await serve_turn(request, state, caller, read_turn(body, len(data)))
    except Rejection as rejection:
        return rejection_response(rejection)


def _chosen_tools(turn: Turn, plan: TurnPlan) -> list[ToolRef]:
    if turn.tool_output is not None or (plan.fault is not None and plan.fault.kind in NO_TOOL_FAULTS):
        return []
    parallel = plan.parallel and turn.body.get("parallel_tool_calls") is True
    return choose_tools(collect_tools(turn.body), turn.body.get("tool_choice"), parallel, turn.user_text)


def _reply_context(
    state: SimulatorState, turn: Turn, plan: TurnPlan, ctx: FaultContext, base: str
) -> ReplyContext:
    reply = ReplyContext(
        turn=turn,
        ids=TurnIds(base, state.next_turn()),
        created_at=int(state.now()),
        text_deltas=plan.text_deltas or state.config.text_deltas,
        cached_tokens=state.cached_tokens(ctx.usage.account_id, turn.prompt_cache_key, turn.input_tokens),
        tools=_chosen_tools(turn, plan),
        fault=plan.fault,
    )
    if plan.fault is None and (hosted := choose_hosted(turn, plan.hosted)) is not None:
        reply.hosted, reply.tools = hosted, []  # the backend's tool, not the client's
    if plan.fault is not None and plan.fault.kind == "usage_limit_in_stream":
        reply.fault_error = usage_limit_in_stream(plan.fault, ctx)
    if compaction_requested(turn.body):  # compaction v2: the answer is the compacted history
        reply.compaction_for, reply.tools, reply.hosted = ctx.usage.account_id, [], None
    return reply


async def serve_turn(
    request: web.Request, state: SimulatorState, caller: Caller, turn: Turn
) -> web.StreamResponse:
    """Apply faults and quota, then send the reply in the configured mode."""
    usage = state.usage_for(caller.account_id, caller.plan)
    base = state.serial_hex()
    ctx = FaultContext(state, usage, _request_id(base))
    queued = state.pop_fault(caller.account_id)
    plan = plan_turn(([queued] if queued is not None else []) + turn.directives)
    delay_ms = state.config.first_byte_delay_ms + plan.delay_ms
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000)
    if plan.error_kind and plan.fault is not None:
        raise error_for(plan.fault, ctx)
    if state.quota_exhausted(usage):
        headers, body = usage_limit_response_parts(state, usage, ctx.request_id)
        raise Rejection(429, body, headers)
    state.consume_turn(usage)
    records = build_reply(_reply_context(state, turn, plan, ctx, base))
    headers = sse_headers(request, state, usage, ctx.request_id)
    if plan.fault is not None and plan.fault.kind == "cut":
        after = min(max(0, int_param(plan.fault, "after", 5)), len(records) - 1)
        return await write_records(request, headers, records[:after], state.config, cut=True)
    if state.config.mode == "paced":
        return await write_records(request, headers, records, state.config)
    return web.Response(body=b"".join(records), headers=headers)


def sse_headers(
    request: web.Request, state: SimulatorState, usage: AccountUsage, request_id: str
) -> dict[str, str]:
    headers = {"content-type": "text/event-stream"}
    headers.update(rate_limit_headers(state, usage, request_id))
    headers["x-models-etag"] = request.app[CATALOG_KEY][1]
    return headers


async def write_records(
    request: web.Request,
    headers: dict[str, str],
    records: list[bytes],
    config: SimulatorConfig,
    cut: bool = False,
) -> web.StreamResponse:
    """Stream ``records`` (one write each in paced mode); ``cut`` then drops the connection."""
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    if config.mode == "paced":
        for index, record in enumerate(records):
            if index and config.interval_ms > 0:
                await asyncio.sleep(config.interval_ms / 1000)
            await response.write(record)
    elif records:
        await response.write(b"".join(records))
    if cut and request.transport is not None:
        request.transport.close()  # flushes what was written, then closes: no terminating chunk
    return response


async def websocket_refused(request: web.Request) -> web.Response:
    return json_response(426, {"detail": "WebSocket transport is not available; use HTTP SSE"})


# -- catalog and usage ------------------------------------------------------------------------
async def models(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    state.record(request.method, request.path, request.query_string, request.headers, None)
    try:
        _caller(request, state)
        if not request.query.get("client_version"):
            raise detail("client_version is required")
    except Rejection as rejection:
        return rejection_response(rejection)
    body, etag = request.app[CATALOG_KEY]
    if request.headers.get("if-none-match") == etag:
        return web.Response(status=304, headers={"etag": etag})
    return web.Response(body=body, headers={"content-type": "application/json", "etag": etag})


async def wham_usage(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    state.record(request.method, request.path, request.query_string, request.headers, None)
    try:
        caller = _caller(request, state)
    except Rejection as rejection:
        return rejection_response(rejection)
    return json_response(200, wham_usage_body(state, state.usage_for(caller.account_id, caller.plan)))


def create_app(config: SimulatorConfig | None = None) -> web.Application:
    """A fresh simulator application with its own :class:`SimulatorState`."""
    config = config if config is not None else SimulatorConfig()
    # Bodies are decoded by validate.decode_body (zstd without extra packages), not by aiohttp.
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, handler_args={"auto_decompress": False})
    app[STATE_KEY] = SimulatorState(config)
    app[MODELS_KEY] = frozenset(config.models)
    app[CATALOG_KEY] = catalog_body(config.models)
    app.router.add_post("/backend-api/codex/responses", responses)
    app.router.add_get("/backend-api/codex/responses", responses_socket)
    app.router.add_post("/v1/responses", responses)
    app.router.add_get("/backend-api/codex/models", models)
    app.router.add_get("/backend-api/wham/usage", wham_usage)
    app.router.add_post("/oauth/token", token_endpoint)
    app.router.add_get("/api/auth/session", session_endpoint)
    add_control_routes(app)
    add_account_control_routes(app)
    add_device_auth_routes(app)
    add_web_routes(app)  # the ChatGPT web backend (web.py)
    add_codex_extra_routes(app)  # compaction, search, accounts check (codex_extras.py)
    return app
