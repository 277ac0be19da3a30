"""Faults: ways a turn goes wrong, queued through ``/_sim/faults`` or written in the prompt.

A fault is a kind plus parameters. It reaches a turn in one of two ways:

* queued: ``POST /_sim/faults {"faults": [{"kind": "cut", "after": 4}], "account_id": "..."}``;
  each later turn (optionally only turns of that account) consumes the oldest one (FIFO);
* a directive in the text of the last user message: ``[[sim:KIND]]`` or
  ``[[sim:KIND key=value key2="quoted value"]]``; directives are removed from the echoed text.
  An unknown directive kind is refused with 400 so typos do not pass silently. The last user
  message stays the same across a tool round trip, so its directives apply to the follow-up
  turn too; queue a fault to hit one turn only.

Kinds, and what the client sees:

``usage_limit``
    429 exactly like ``usage-limit-429.constructed.http``; ``resets_in=S`` (default 17400)
    gives ``resets_at = now + S``; ``plan=`` overrides the plan type.
``usage_limit_in_stream``
    200, created/in_progress, then ``response.failed`` whose ``error.type`` and ``error.code``
    are ``usage_limit_reached`` (plus ``plan_type``, ``resets_at``, ``resets_in_seconds``).
``unauthorized``
    401 ``{"error":{"message":"Provided authentication token is expired…","code":"token_expired"}}``.
``server_error``
    500 with a plain JSON error body (``message=`` sets its text).
``overloaded``
    503 ``{"error":{"code":"server_is_overloaded",…}}``; ``retry_after=S`` adds ``retry-after``.
``bad_request``
    400 ``{"detail": message}``; ``message=`` sets the text.
``rate_limited``
    429 ``{"error":{"type":"rate_limit_exceeded",…}}`` (not a usage limit) with a
    ``retry-after`` header from ``retry_after=S`` (default 1).
``slow_first_byte``
    sleep ``ms=`` (default 1000) before the status line; combines with any other fault.
``cut``
    the normal stream's first ``after=N`` records (default 5), then the connection is closed
    mid-body: no terminal event and no end of the chunked body, so clients see a truncation.
``failed``
    partial text (``after=N`` deltas, default 2), then ``response.failed`` shaped like
    ``response-failed.real-payload.sse``: ``code=`` (default ``context_length_exceeded``),
    ``message=``.
``empty_output``
    a normal stream whose ``response.completed.response.output`` is ``[]``.
``incomplete``
    a text stream ending in ``response.incomplete`` with ``incomplete_details.reason`` =
    ``reason=`` (default ``max_output_tokens``); the message item has status ``incomplete``.

Reply options (directives only, not faults): ``[[sim:text deltas=N]]`` sets the number of text
deltas of this answer; ``[[sim:parallel]]`` asks for two parallel function calls;
``[[sim:image]]`` and ``[[sim:search]]`` run the backend's image generation or web search when
the request offers that tool (``hosted.py``).

When several faults meet one turn (a queued one first, then directives in text order), the
delays add up and the first error or stream fault decides the outcome.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gptgate.simulator.state import AccountUsage, Fault, SimulatorState
from gptgate.simulator.usage import USAGE_LIMIT_MESSAGE, usage_limit_response_parts
from gptgate.simulator.validate import TOKEN_EXPIRED, Rejection, auth_error, detail

STREAM_KINDS = frozenset({"cut", "failed", "empty_output", "incomplete", "usage_limit_in_stream"})
DELAY_KINDS = frozenset({"slow_first_byte"})
OPTION_KINDS = frozenset({"text", "parallel", "image", "search"})
DEFAULT_USAGE_RESET_S = 17400

_DIRECTIVE = re.compile(r"\[\[sim:([a-z_]+)((?:\s+[A-Za-z_]+=(?:\"[^\"]*\"|[^\s\]]+))*)\s*\]\]")
_PARAM = re.compile(r"([A-Za-z_]+)=(?:\"([^\"]*)\"|([^\s\]]+))")


@dataclass(slots=True)
class FaultContext:
    state: SimulatorState
    usage: AccountUsage
    request_id: str


@dataclass(slots=True)
class TurnPlan:
    """What the faults and options of one turn ask for."""

    delay_ms: float = 0.0
    fault: Fault | None = None
    text_deltas: int | None = None
    parallel: bool = False
    #: ``[[sim:image]]`` / ``[[sim:search]]``: run that backend tool when offered (``hosted.py``)
    hosted: Literal["image", "search"] | None = None

    @property
    def error_kind(self) -> bool:
        return self.fault is not None and self.fault.kind in ERROR_FAULTS


def int_param(fault: Fault, name: str, default: int) -> int:
    value = fault.params.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise detail(f"Fault {fault.kind}: parameter {name} must be a number") from None


def str_param(fault: Fault, name: str, default: str) -> str:
    value = fault.params.get(name, default)
    return value if isinstance(value, str) else str(value)


def _scalar(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_directives(text: str) -> tuple[str, list[Fault]]:
    """(text without directives, the directives as faults/options, in text order)."""
    if "[[sim:" not in text:
        return text, []
    found: list[Fault] = []
    for match in _DIRECTIVE.finditer(text):
        params = {m[0]: (m[1] if m[1] or not m[2] else _scalar(m[2])) for m in _PARAM.findall(match[2])}
        found.append(Fault(match[1], params))
    check_kinds(found)
    return _DIRECTIVE.sub("", text).strip(), found


def check_kinds(faults: list[Fault]) -> None:
    for fault in faults:
        if fault.kind not in KNOWN_KINDS:
            raise detail(f"Unknown simulator fault kind: {fault.kind}")


def plan_turn(faults: list[Fault]) -> TurnPlan:
    plan = TurnPlan()
    for fault in faults:
        if fault.kind == "text":
            plan.text_deltas = max(1, int_param(fault, "deltas", 8))
        elif fault.kind == "parallel":
            plan.parallel = True
        elif fault.kind == "image":
            plan.hosted = "image"
        elif fault.kind == "search":
            plan.hosted = "search"
        elif fault.kind == "slow_first_byte":
            plan.delay_ms += max(0, int_param(fault, "ms", 1000))
        elif plan.fault is None:
            plan.fault = fault
    return plan


# -- error faults: one function per kind -----------------------------------------------------
def usage_limit(fault: Fault, ctx: FaultContext) -> Rejection:
    resets_in = int_param(fault, "resets_in", int_param(fault, "resets_in_seconds", DEFAULT_USAGE_RESET_S))
    plan = fault.params.get("plan")
    if isinstance(plan, str):
        ctx.usage.plan = plan
    headers, body = usage_limit_response_parts(ctx.state, ctx.usage, ctx.request_id, resets_in)
    return Rejection(429, body, headers)


def unauthorized(fault: Fault, ctx: FaultContext) -> Rejection:
    return auth_error(TOKEN_EXPIRED, "token_expired")


def server_error(fault: Fault, ctx: FaultContext) -> Rejection:
    message = str_param(fault, "message", "An error occurred while processing your request.")
    return Rejection(500, {"error": {"message": message, "type": "server_error", "code": "internal_error"}})


def overloaded(fault: Fault, ctx: FaultContext) -> Rejection:
    body = {"error": {"code": "server_is_overloaded", "message": "Our servers are currently overloaded."}}
    headers = (
        {"retry-after": str(int_param(fault, "retry_after", 0))} if "retry_after" in fault.params else {}
    )
    return Rejection(503, body, headers)


def bad_request(fault: Fault, ctx: FaultContext) -> Rejection:
    return detail(str_param(fault, "message", "Bad request (simulated fault)"))


def rate_limited(fault: Fault, ctx: FaultContext) -> Rejection:
    seconds = int_param(fault, "retry_after", 1)
    message = f"Rate limit reached for requests. Please try again in {seconds}s."
    body = {"error": {"type": "rate_limit_exceeded", "code": "rate_limit_exceeded", "message": message}}
    return Rejection(429, body, {"retry-after": str(seconds)})


ERROR_FAULTS: dict[str, Callable[[Fault, FaultContext], Rejection]] = {
    "usage_limit": usage_limit,
    "unauthorized": unauthorized,
    "server_error": server_error,
    "overloaded": overloaded,
    "bad_request": bad_request,
    "rate_limited": rate_limited,
}
KNOWN_KINDS = frozenset(ERROR_FAULTS) | STREAM_KINDS | DELAY_KINDS | OPTION_KINDS


def error_for(fault: Fault, ctx: FaultContext) -> Rejection:
    """The HTTP refusal an error fault stands for (with ``x-request-id``)."""
    rejection = ERROR_FAULTS[fault.kind](fault, ctx)
    rejection.headers.setdefault("x-request-id", ctx.request_id)
    return rejection


# -- stream faults that need account context -------------------------------------------------
def usage_limit_in_stream(fault: Fault, ctx: FaultContext) -> dict[str, Any]:
    """The ``error`` object of the in-stream usage-limit ``response.failed``."""
    resets_in = int_param(fault, "resets_in", DEFAULT_USAGE_RESET_S)
    now = int(ctx.state.now())
    return {
        "type": "usage_limit_reached",
        "code": "usage_limit_reached",
        "message": USAGE_LIMIT_MESSAGE,
        "plan_type": ctx.usage.plan,
        "resets_at": now + resets_in,
        "resets_in_seconds": resets_in,
    }
