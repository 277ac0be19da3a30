"""The seam between the dispatcher and an upstream (narrow on purpose: tests fake it in 40 lines)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gptgate.accounts.model import Account, Quota
from gptgate.canonical.events import Event
from gptgate.canonical.request import CanonicalRequest
from gptgate.types import JSONObject


class UpstreamStream(Protocol):
    """An open upstream answer: batches of canonical events, one batch per upstream read.

    A stream always ends with exactly one terminal event (``response.completed``,
    ``response.incomplete``, ``response.failed`` or ``error``): a cut or a network failure
    after the first byte is reported as a synthetic ``response.failed``, never raised.
    """

    def batches(self) -> AsyncIterator[list[Event]]: ...

    async def aclose(self) -> None: ...


class Upstream(Protocol):
    name: str
    #: True when ``open`` bounds its own wait for the answer (an upstream with several base URLs
    #: times each base, to fail over to the next); otherwise the dispatcher's first-event
    #: deadline covers ``open`` too, one timer per attempt
    times_open: bool

    async def open(self, request: CanonicalRequest, account: Account) -> UpstreamStream:
        """Send the request; raise an ``UpstreamError`` if the upstream refuses before streaming."""
        ...

    async def list_models(self, account: Account) -> list[JSONObject]: ...

    async def close(self) -> None: ...


@runtime_checkable
class QuotaSource(Protocol):
    """An upstream that can report an account's plan and quota windows without spending a turn."""

    async def quota(self, account: Account) -> Quota: ...


@dataclass(frozen=True, slots=True)
class UnaryReply:
    """A unary JSON answer of the upstream, and the headers worth passing back to the client."""

    body: JSONObject
    headers: dict[str, str]


@runtime_checkable
class UnaryEndpoints(Protocol):
    """An upstream that answers Codex's unary JSON calls: remote compaction and the standalone
    web search. ``body`` goes out as the client sent it (minus what the backend rejects);
    ``headers`` are the client's forwardable ones (session ids, beta features). Raises an
    ``UpstreamError`` when the upstream refuses, like ``open``."""

    async def compact(self, body: JSONObject, headers: Mapping[str, str], account: Account) -> UnaryReply: ...

    async def search(self, body: JSONObject, headers: Mapping[str, str], account: Account) -> UnaryReply: ...
