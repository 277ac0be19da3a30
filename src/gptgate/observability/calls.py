"""The metrics side of a call: one ``call_finished`` when it closes (nothing per event)."""

from __future__ import annotations

import time

from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext
from gptgate.errors import UpstreamError
from gptgate.observability import metrics


class MetricsObserver:
    """A :class:`~gptgate.dispatch.context.CallObserver` feeding ``observability.metrics``."""

    admits = False  # admit does nothing: dispatch does not await it

    async def admit(self, call: CallContext, request: CanonicalRequest) -> None:
        return None

    async def call_closed(self, call: CallContext) -> None:
        error = call.error
        error_class = call.error_class()
        if isinstance(error, UpstreamError) and error_class is not None:
            metrics.upstream_error(error_class)
        metrics.call_finished(
            call.door,
            call.model or "unknown",
            call.status,
            error_class,
            call.ttft(),
            time.monotonic() - call.started,
            key_id=call.key_id,
            account_id=call.account.id if call.account is not None else None,
        )
