"""Faults of the auth endpoints (``/oauth/token``, ``/api/auth/session``): outages and delays.

A transient outage must be told apart from a dead grant, so these answers never carry an
OAuth error code a client would take for ``invalid_grant``. A fault reaches a call in one of
two ways: queued one-shot with ``POST /_sim/auth/faults {"faults": [{"kind": …}]}`` (FIFO, one
per call to either endpoint), or standing with ``PUT /_sim/auth {"outage": {"kind": …}}`` until
cleared with ``{"outage": null}``. ``PUT /_sim/auth {"delay_ms": N}`` (config ``auth_delay_ms``)
delays every call, before the call takes effect, so concurrent refreshes overlap.

Kinds:

``server_error``
    500 ``{"error": "server_error", "error_description": …}``.
``unavailable``
    503 ``{"error": "temporarily_unavailable", …}``; ``retry_after=S`` adds ``retry-after``.
``rate_limited``
    429 ``{"error": "rate_limited", …}`` with ``retry-after`` (``retry_after=S``, default 1).
``timeout``
    no answer for ``ms`` (default 30000; the wait ends early when the client leaves), then 504.
    Nothing is spent.
``drop``
    the call takes effect (a refresh token is rotated), then the connection is closed without a
    reply: the client sees a disconnect and its next try with the old refresh token is
    ``refresh_token_reused`` (a lost reply, the case that makes storing a rotated token first
    matter).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from gptgate.simulator.state import Fault, SimulatorState

DROP = "drop"
DEFAULT_TIMEOUT_MS = 30_000
_POLL_S = 0.02


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(body), content_type="application/json", headers=headers
    )


def _number(fault: Fault, name: str, default: float) -> float:
    try:
        return float(fault.params.get(name, default))
    except (TypeError, ValueError):
        return default


def server_error(fault: Fault) -> web.Response:
    return _json(500, {"error": "server_error", "error_description": "Internal server error (simulated)"})


def unavailable(fault: Fault) -> web.Response:
    headers = (
        {"retry-after": str(int(_number(fault, "retry_after", 0)))} if "retry_after" in fault.params else {}
    )
    body = {"error": "temporarily_unavailable", "error_description": "Service unavailable (simulated)"}
    return _json(503, body, headers)


def rate_limited(fault: Fault) -> web.Response:
    seconds = int(_number(fault, "retry_after", 1))
    body = {"error": "rate_limited", "error_description": "Too many requests (simulated)"}
    return _json(429, body, {"retry-after": str(seconds)})


def gateway_timeout(fault: Fault) -> web.Response:
    return _json(504, {"error": "timeout", "error_description": "Upstream timed out (simulated)"})


ANSWERS: dict[str, Callable[[Fault], web.Response]] = {
    "server_error": server_error,
    "unavailable": unavailable,
    "rate_limited": rate_limited,
    "timeout": gateway_timeout,
}
AUTH_KINDS = frozenset(ANSWERS) | {DROP}


def check_auth_kinds(faults: list[Fault]) -> str | None:
    """The error message for the first unknown kind, or None."""
    for fault in faults:
        if fault.kind not in AUTH_KINDS:
            return f"Unknown auth fault kind: {fault.kind}"
    return None


async def sleep_unless_gone(request: web.Request, seconds: float) -> None:
    """Sleep, but stop as soon as the client has closed the connection."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(min(_POLL_S, left))


async def before_auth_call(request: web.Request, state: SimulatorState) -> tuple[web.Response | None, bool]:
    """Apply the delay and the next fault: (an answer that replaces the call, drop after it)."""
    if state.auth_delay_ms > 0:
        await sleep_unless_gone(request, state.auth_delay_ms / 1000)
    fault = state.pop_auth_fault()
    if fault is None:
        return None, False
    if fault.kind == DROP:
        return None, True
    if fault.kind == "timeout":
        await sleep_unless_gone(request, _number(fault, "ms", DEFAULT_TIMEOUT_MS) / 1000)
    return ANSWERS[fault.kind](fault), False


def drop_connection(request: web.Request) -> web.Response:
    """Close the connection without a reply (the returned response is never sent)."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=204)
