"""The metrics side of a call: one ``call_finished`` when it closes (nothing per event)."""

from __future__ import annotations

import time

from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext
from gptgate.errors import UpstreamError
from gptgate.observability import metrics

COMPLETED = "response.completed"
_monotonic = time.monotonic


class MetricsObserver:
    """A :class:`~gptgate.dispatch.context.CallObserver` feeding ``observability.metrics``."""

    admits = False  # admit does nothing: dispatch does not await it

    async def admit(self, call: CallContext, request: CanonicalRequest) -> None:
        return None

    async def call_closed(self, call: CallContext) -> None:
        self.call_closed_now(call)

    def call_closed_now(self, call: CallContext) -> None:
        """``call_closed`` without a coroutine: nothing here awaits."""
        started = call.started
        error = call.error
        terminal = call.terminal
        status = call.status
        if error is None and status < 400 and (terminal is None or terminal.get("type") == COMPLETED):
            error_class = None  # what ``error_class`` finds for a success, without its calls
        else:
            error_class = call.error_class()
            if isinstance(error, UpstreamError) and error_class is not None:
                metrics.upstream_error(error_class)
        first = call.first_event_at
        if metrics.count_ids:
            key, account = call.key, call.account
            key_id = None if key is None else key.id
            account_id = None if account is None else account.id
        else:
            key_id = account_id = None  # counted by neither: not looked up
        metrics.call_finished(
            call.door,
            call.model or "unknown",
            status,
            error_class,
            None if first is None else first - started,  # call.ttft()
            _monotonic() - started,
            key_id,
            account_id,
        )
