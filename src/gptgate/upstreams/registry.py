"""Every upstream, in one explicit table (DESIGN §1 rule 6: no registration by import side effects).

The gateway builds its upstreams, its HTTP transport and the quota reader from here and imports no
upstream package itself. Each entry names the upstream, the path prefix that pins it
(``/codex/v1/...``), whether the settings enable it, and how to build it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from gptgate import errors
from gptgate.accounts.model import Account, Quota
from gptgate.settings import Settings
from gptgate.types import UpstreamName
from gptgate.upstreams.base import QuotaSource, Upstream
from gptgate.upstreams.codex.client import CodexUpstream
from gptgate.upstreams.egress import Egress
from gptgate.upstreams.transport import AiohttpTransport, CurlCffiTransport, Transport

#: the upstream a request goes to when neither its path nor its model names one
DEFAULT_UPSTREAM: UpstreamName = "codex"
QuotaReader = Callable[[Account], Awaitable[Quota]]


@dataclass(frozen=True, slots=True)
class UpstreamSpec:
    name: UpstreamName
    #: requests under this path prefix are served by this upstream only
    prefix: str
    enabled: Callable[[Settings], bool]
    build: Callable[[Settings, Transport], Upstream]


def _codex(settings: Settings, transport: Transport) -> Upstream:
    return CodexUpstream(
        transport,
        base_url=settings.codex_base_url,
        originator=settings.originator,
        client_version=settings.client_version,
        first_byte_timeout=settings.first_byte_timeout,
        fallback_base_urls=settings.codex_base_urls,
        base_down_seconds=settings.base_down_seconds,
        egress=Egress(settings.proxies),
    )


UPSTREAMS: tuple[UpstreamSpec, ...] = (UpstreamSpec("codex", "/codex/", lambda s: True, _codex),)


def pins() -> dict[str, UpstreamName]:
    """Path prefix → the upstream it pins."""
    return {spec.prefix: spec.name for spec in UPSTREAMS}


def build_transport(settings: Settings) -> Transport:
    if settings.codex_transport == "curl_cffi":
        return CurlCffiTransport(
            impersonate=settings.codex_impersonate,
            connect_timeout=settings.connect_timeout,
            idle_timeout=settings.idle_timeout,
            limit=settings.upstream_connections,
        )
    return AiohttpTransport(
        connect_timeout=settings.connect_timeout,
        idle_timeout=settings.idle_timeout,
        limit=settings.upstream_connections,
    )


def build_upstreams(settings: Settings, transport: Transport) -> dict[str, Upstream]:
    return {spec.name: spec.build(settings, transport) for spec in UPSTREAMS if spec.enabled(settings)}


def quota_reader(upstreams: Mapping[str, Upstream]) -> QuotaReader:
    """How the account manager reads an account's quota windows: from the first upstream that
    reports quotas (the Codex usage endpoint)."""
    readers = [u.quota for u in upstreams.values() if isinstance(u, QuotaSource)]

    async def read(account: Account) -> Quota:
        if not readers:
            raise errors.UpstreamUnavailable("no configured upstream reports account quotas")
        return await readers[0](account)

    return read
