"""The per-call context: whose call it is and what became of it, beside the model turn.

A ``CanonicalRequest`` is only the model turn (what any upstream needs to answer it). Everything
about the *call* — which client key made it, through which front door, pinned to which upstream,
served from whose own account, which pool account answered, when the first event came and what
the terminal event said — rides here, from the middleware that admits the request, through
dispatch and the stream, to the moment the call closes, where usage, limits and metrics read it.

Filled in this order::

    middleware   request_id, started, key / byo (client auth), family
    route        door (set by dispatch from the request's origin), pinned upstream (path prefix)
    dispatch     model, session, admitted (limits), account, first_event_at
    stream       terminal (the last event: completed / incomplete / failed / error)
    middleware   status, error, then every observer's ``call_closed``

Nothing here runs per stream event: the stream looks at the last event of each batch only.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from gptgate.types import JSONObject, UpstreamName

if TYPE_CHECKING:
    from gptgate.accounts.model import Account
    from gptgate.canonical.request import CanonicalRequest
    from gptgate.errors import GatewayError
    from gptgate.keys.model import ClientKey


@dataclass(slots=True, eq=False)
class CallContext:
    request_id: str
    #: the front door: ``chat``, ``responses``, ``anthropic``, ``gemini`` (or a route family such
    #: as ``models`` for calls that reach no upstream)
    door: str = "other"
    #: the client key that was presented and accepted (None: no keys configured, or a static one)
    key: ClientKey | None = None
    #: the client's own ChatGPT account (bring-your-own-token mode): served from it, not the pool
    byo: Account | None = None
    #: a path prefix such as ``/codex/v1`` pins the upstream
    upstream: UpstreamName | None = None
    started: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)
    #: the upstream model the call resolved to
    model: str | None = None
    #: what keeps the conversation on one account (the request's, or one derived for it)
    session: str | None = None
    #: the limits let it through (so closing it gives back what admission took)
    admitted: bool = False
    #: the pool account that served it
    account: Account | None = None
    first_event_at: float | None = None
    #: the terminal event's payload (``response.completed`` etc.), None when none came
    terminal: JSONObject | None = None
    status: int = 0
    error: GatewayError | None = None

    @property
    def key_id(self) -> str | None:
        return self.key.id if self.key is not None else None

    def pinned(self) -> UpstreamName | None:
        return self.upstream

    def usage(self) -> JSONObject | None:
        """The upstream's usage object from the terminal event (Responses shape), if any."""
        if self.terminal is None:
            return None
        response = self.terminal.get("response")
        usage = response.get("usage") if isinstance(response, dict) else None
        return usage if isinstance(usage, dict) else None

    def outcome(self) -> str | None:
        """The terminal event's type (``response.completed``, ...), None when none came."""
        return None if self.terminal is None else self.terminal.get("type")

    def ttft(self) -> float | None:
        """Seconds from admission to the first event past the preamble."""
        return None if self.first_event_at is None else self.first_event_at - self.started

    def error_class(self) -> str | None:
        """A short, bounded name for what went wrong (None for a success)."""
        error = self.error
        if error is not None:
            return error.code or error.type
        terminal = self.terminal
        outcome = None if terminal is None else terminal.get("type")  # self.outcome(), without its call
        if outcome is not None and outcome != "response.completed":
            response = (terminal or {}).get("response")
            error = response.get("error") if isinstance(response, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            return str(code) if code else outcome.rpartition(".")[2]
        if self.status >= 400:
            return f"http_{self.status}"
        return None


class CallObserver(Protocol):
    """Something that acts on calls: limits admit them, usage and metrics record them.

    ``admit`` runs in dispatch once the model is resolved, before an account is leased; it may
    raise a ``GatewayError`` (a 429 for a limit, a 403 for a model the key may not use).
    ``call_closed`` runs once per call after the answer is complete (or failed), off the
    stream's path; it must not raise and must not block. An observer whose ``admit`` does
    nothing says so with a class attribute ``admits = False``: it is then not awaited at all.
    One that can admit or close a call without awaiting anything (most calls, most observers)
    may also have ``admit_now`` / ``call_closed_now``, a plain method that does it and returns
    None, or returns what is left to await: then no coroutine is made for it.
    """

    async def admit(self, call: CallContext, request: CanonicalRequest) -> None: ...

    async def call_closed(self, call: CallContext) -> None: ...


class Observers:
    """The gateway's observers in order: admission runs through all; closing through all too."""

    __slots__ = ("_closes", "_items", "admitters")

    def __init__(self, items: list[CallObserver] | None = None) -> None:
        self._items: list[CallObserver] = []
        #: the admit of each observer whose admit does something: ``admit_now`` where it has
        #: one, else ``admit`` (``admit_now`` calls each in turn and awaits only what they return)
        self.admitters: list[Callable[[CallContext, CanonicalRequest], Awaitable[None] | None]] = []
        #: each observer's close: ``call_closed_now`` where it has one, else ``call_closed``
        self._closes: list[Callable[[CallContext], Awaitable[None] | None]] = []
        for observer in items or []:
            self.add(observer)

    def add(self, observer: CallObserver) -> None:
        self._items.append(observer)
        if getattr(observer, "admits", True):
            self.admitters.append(getattr(observer, "admit_now", observer.admit))
        self._closes.append(getattr(observer, "call_closed_now", observer.call_closed))

    async def admit(self, call: CallContext, request: CanonicalRequest) -> None:
        pending = self.admit_now(call, request)
        if pending is not None:
            await pending

    def admit_now(self, call: CallContext, request: CanonicalRequest) -> Awaitable[None] | None:
        """``admit`` by plain calls while no observer has anything to await (the usual call:
        no coroutine made); else the rest of it, from the first that has, to await."""
        admitters = self.admitters
        for i, admit in enumerate(admitters):
            pending = admit(call, request)
            if pending is not None:
                return self._admit_rest(pending, call, request, i + 1)
        call.admitted = True
        return None

    async def _admit_rest(
        self, pending: Awaitable[None], call: CallContext, request: CanonicalRequest, start: int
    ) -> None:
        await pending
        for admit in self.admitters[start:]:
            more = admit(call, request)
            if more is not None:
                await more
        call.admitted = True

    async def call_closed(self, call: CallContext) -> None:
        for close in self._closes:  # in order: what one awaits, the next waits for
            pending = close(call)
            if pending is not None:
                await pending
