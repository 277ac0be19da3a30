"""The assembled gateway: settings, model catalogue, account pool, upstreams, dispatcher."""

from __future__ import annotations

import asyncio
import logging
import time

from gptgate.accounts.byo import ByoAccounts
from gptgate.accounts.manager import AccountManager
from gptgate.accounts.model import Account, Quota
from gptgate.accounts.pool import AccountPool
from gptgate.accounts.refresh import Refresher
from gptgate.dispatch.context import Observers
from gptgate.dispatch.dispatcher import Dispatcher
from gptgate.dispatch.models import ModelCatalog
from gptgate.settings import Settings
from gptgate.state import make_state
from gptgate.storage import open_from_settings
from gptgate.upstreams.base import Upstream
from gptgate.upstreams.codex.client import CodexUpstream
from gptgate.upstreams.codex.encode import user_agent
from gptgate.upstreams.codex.usage import fetch_usage
from gptgate.upstreams.egress import Egress
from gptgate.upstreams.transport import AiohttpTransport, CurlCffiTransport, Transport

log = logging.getLogger("gptgate")

MODELS_REFRESH_SECONDS = 3600.0


def configured_accounts(settings: Settings) -> list[Account]:
    accounts: list[Account] = []
    if settings.access_token is not None:
        accounts.append(
            Account.from_tokens(settings.access_token.get_secret_value(), account_id=settings.account_id)
        )
    if settings.auth_json is not None:
        accounts.append(Account.from_auth_json(settings.auth_json.expanduser()))
    return accounts


def make_transport(settings: Settings) -> Transport:
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


class Gateway:
    def __init__(self, settings: Settings, accounts: list[Account] | None = None) -> None:
        self.settings = settings
        self.catalog = ModelCatalog(settings.models, settings.model_aliases, settings.default_model)
        self.state = make_state(settings)
        self.store = open_from_settings(settings) if settings.account_store else None
        self.pool = AccountPool(
            accounts if accounts is not None else configured_accounts(settings),
            self.state,
            strategy=settings.pool_strategy,
            sticky_ttl=settings.sticky_ttl_seconds,
        )
        self.refresher = Refresher(
            self.state,
            self.store,
            token_url=settings.oauth_token_url,
            client_id=settings.oauth_client_id,
            timeout=settings.token_timeout,
            session_url=settings.session_base_url,
        )
        self.accounts = AccountManager(
            self.pool,
            self.state,
            self.store,
            self.refresher,
            refresh_before=settings.refresh_before_seconds,
            usage=self._usage,
            usage_every=settings.usage_poll_seconds,
        )
        self.transport = make_transport(settings)
        codex = CodexUpstream(
            self.transport,
            base_url=settings.codex_base_url,
            originator=settings.originator,
            client_version=settings.client_version,
            first_byte_timeout=settings.first_byte_timeout,
            fallback_base_urls=settings.codex_base_urls,
            base_down_seconds=settings.base_down_seconds,
            egress=Egress(settings.proxies),
        )
        self.upstreams: dict[str, Upstream] = {"codex": codex}
        #: clients' own accounts (bring-your-own-token mode), None when it is off
        self.byo = (
            ByoAccounts(
                token_url=settings.oauth_token_url,
                client_id=settings.oauth_client_id,
                timeout=settings.token_timeout,
                size=settings.byo_cache_size,
                opaque_refresh=settings.byo_opaque_refresh,
            )
            if settings.byo_tokens
            else None
        )
        #: limits, usage and metrics: they admit and record every model call
        self.observers = Observers()
        self.dispatcher = Dispatcher(
            self.pool,
            self.upstreams,
            retry_times=settings.retry_times,
            first_byte_timeout=settings.first_byte_timeout,
            credentials=self.accounts,
            own=self.byo,
            observers=self.observers,
        )
        self._models_fetched = 0.0
        self._models_task: asyncio.Task[None] | None = None

    async def _usage(self, account: Account) -> Quota:
        agent = user_agent(self.settings.originator, self.settings.client_version)
        return await fetch_usage(self.transport, self.settings.codex_base_url, account, agent)

    async def start(self) -> None:
        await self.accounts.start()
        self.refresh_models_soon()

    def refresh_models_soon(self) -> None:
        """Fetch the upstream's model list in the background when it is stale."""
        if not self.settings.fetch_upstream_models or not any(a.usable for a in self.pool.accounts):
            return
        if time.monotonic() - self._models_fetched < MODELS_REFRESH_SECONDS and self._models_fetched:
            return
        if self._models_task is None or self._models_task.done():
            self._models_task = asyncio.ensure_future(self._refresh_models())

    async def _refresh_models(self) -> None:
        self._models_fetched = time.monotonic()
        upstream = self.upstreams["codex"]
        try:
            account = next(a for a in self.pool.accounts if a.usable)
            infos = await upstream.list_models(account)
        except Exception as exc:  # the catalogue in settings stays in force
            log.warning("could not fetch the upstream model list: %s", exc)
            return
        self.catalog.add_upstream(infos)

    async def close(self) -> None:
        if self._models_task is not None:
            self._models_task.cancel()
        for upstream in self.upstreams.values():
            await upstream.close()
        await self.accounts.close()
        if self.byo is not None:
            await self.byo.close()
        await self.state.close()
        if self.store is not None:
            self.store.close()
