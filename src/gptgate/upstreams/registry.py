"""Every upstream, in one explicit table (DESIGN §1 rule 6: no registration by import side effects).

The gateway builds its upstreams, its HTTP transport and the quota reader from here and imports no
upstream package itself. Each entry names the upstream, the path prefix that pins it
(``/codex/v1/...``), whether the settings enable it, and how to build it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from gptgate import errors
from gptgate.accounts.model import Account, Quota
from gptgate.files.links import signer_from_settings
from gptgate.settings import Settings
from gptgate.types import UpstreamName
from gptgate.upstreams.base import QuotaSource, Upstream
from gptgate.upstreams.chatgpt_web import models as web_models
from gptgate.upstreams.chatgpt_web.client import ChatGptWebUpstream
from gptgate.upstreams.chatgpt_web.encode import ConversationOptions
from gptgate.upstreams.chatgpt_web.files import Uploader
from gptgate.upstreams.codex.client import CodexUpstream
from gptgate.upstreams.codex.socket import SocketPool
from gptgate.upstreams.egress import Egress
from gptgate.upstreams.fetch import Fetcher, FetchPolicy
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
    #: the model names it lists by default (beyond the catalogue of settings)
    models: Callable[[Settings], list[str]] = lambda s: []
    #: True for a model name this upstream serves that no list names (a GPT, a listed slug)
    claims: Callable[[Upstream, str], bool] = lambda u, name: False


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
        sockets=_sockets(settings, transport),
    )


def _sockets(settings: Settings, transport: Transport) -> SocketPool | None:
    """The Codex upstream's WebSocket transport when asked for (aiohttp only)."""
    if not settings.codex_websocket or not isinstance(transport, AiohttpTransport):
        return None
    return SocketPool(transport, idle_timeout=settings.idle_timeout)


def _web(settings: Settings, transport: Transport) -> Upstream:
    headers = dict(settings.chatgpt_headers)
    if settings.chatgpt_auth_key is not None:
        headers["authkey"] = settings.chatgpt_auth_key.get_secret_value()
    return ChatGptWebUpstream(
        transport,
        base_urls=settings.chatgpt_base_urls,
        first_byte_timeout=settings.first_byte_timeout,
        conversation_path=settings.chatgpt_conversation_path,
        options=ConversationOptions(history_disabled=not settings.chatgpt_history, extra_headers=headers),
        sentinel_tokens=settings.chatgpt_sentinel,
        pow_hardest=settings.chatgpt_pow_difficulty,
        egress=Egress(settings.proxies),
        uploader=Uploader(transport, Fetcher(fetch_policy(settings))),
        links=signer_from_settings(settings),
    )


def fetch_policy(settings: Settings) -> FetchPolicy:
    """How remote image and file URLs are fetched (``upstreams/fetch.py``)."""
    return FetchPolicy(
        max_bytes=int(settings.fetch_max_mb * 1024 * 1024),
        timeout=settings.fetch_timeout,
        allow_private=settings.fetch_allow_private,
        proxy=settings.fetch_proxy,
    )


def _web_claims(upstream: Upstream, name: str) -> bool:
    """A GPT (``<model>-gizmo-g-…``) or a slug an account listed; a malformed GPT name is the
    client's error, said plainly."""
    listed = upstream.listed if isinstance(upstream, ChatGptWebUpstream) else ()
    try:
        return web_models.resolve(name, listed) is not None
    except ValueError as exc:
        raise errors.ModelNotFound(str(exc), param="model") from None


UPSTREAMS: tuple[UpstreamSpec, ...] = (
    UpstreamSpec("codex", "/codex/", lambda s: True, _codex),
    UpstreamSpec(
        "chatgpt_web",
        "/chatgpt/",
        lambda s: bool(s.chatgpt_base_urls),
        _web,
        models=lambda s: list(web_models.WEB_SLUGS),
        claims=_web_claims,
    ),
)


def pins() -> dict[str, UpstreamName]:
    """Path prefix → the upstream it pins."""
    return {spec.prefix: spec.name for spec in UPSTREAMS}


def model_claims(upstreams: Mapping[str, Upstream]) -> list[tuple[str, Callable[[str], bool]]]:
    """(upstream, does it serve this name?) for each enabled upstream that serves unlisted names."""
    out: list[tuple[str, Callable[[str], bool]]] = []
    for spec in UPSTREAMS:
        upstream = upstreams.get(spec.name)
        if upstream is not None:
            out.append((spec.name, functools.partial(spec.claims, upstream)))
    return out


def default_models(settings: Settings, upstreams: Mapping[str, Upstream]) -> dict[str, list[str]]:
    """upstream -> the model names it lists by default."""
    return {spec.name: spec.models(settings) for spec in UPSTREAMS if spec.name in upstreams}


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
        idle_connections=settings.upstream_idle_connections,
        keepalive_seconds=settings.upstream_keepalive_seconds,
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
