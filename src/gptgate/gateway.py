"""The assembled gateway: settings, model catalogue, account pool, upstreams, dispatcher."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from gptgate.accounts.byo import ByoAccounts
from gptgate.accounts.manager import AccountManager
from gptgate.accounts.model import Account
from gptgate.accounts.pool import AccountPool
from gptgate.accounts.refresh import Refresher, Transport
from gptgate.dispatch.context import Observers
from gptgate.dispatch.dispatcher import Dispatcher
from gptgate.dispatch.models import ModelCatalog
from gptgate.keys.limits import KeyLimiter
from gptgate.keys.ring import KeyRing
from gptgate.observability.calls import MetricsObserver
from gptgate.observability.metrics import Flusher
from gptgate.observability.usage import UsageRecorder
from gptgate.settings import Settings
from gptgate.state import make_state
from gptgate.state.base import PoolState
from gptgate.storage import Store, open_from_settings
from gptgate.upstreams.base import Upstream
from gptgate.upstreams.registry import (
    DEFAULT_UPSTREAM,
    build_transport,
    build_upstreams,
    default_models,
    model_claims,
    pins,
    quota_reader,
)

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


def build_refresher(
    settings: Settings, state: PoolState, store: Store | None, transport: Transport | None = None
) -> Refresher:
    """The refresher; with ``transport`` its calls leave through each account's egress."""
    return Refresher(
        state,
        store,
        token_url=settings.oauth_token_url,
        client_id=settings.oauth_client_id,
        timeout=settings.token_timeout,
        session_url=settings.session_base_url,
        transport=transport,
        proxies=settings.proxies,
    )


def build_manager(
    settings: Settings,
    pool: AccountPool,
    state: PoolState,
    store: Store | None,
    upstreams: Mapping[str, Upstream],
    *,
    background: bool = True,
    transport: Transport | None = None,
) -> AccountManager:
    """The account manager over ``pool``; without ``background`` it polls nothing by itself
    (one-shot tools such as ``gptgate accounts test``)."""
    return AccountManager(
        pool,
        state,
        store,
        build_refresher(settings, state, store, transport),
        refresh_before=settings.refresh_before_seconds,
        usage=quota_reader(upstreams),
        usage_every=settings.usage_poll_seconds if background else 0.0,
        reload_every=settings.reload_seconds if background else 0.0,
    )


def build_byo(settings: Settings) -> ByoAccounts | None:
    """Clients' own accounts (bring-your-own-token mode), None when it is off."""
    if not settings.byo_tokens:
        return None
    return ByoAccounts(
        token_url=settings.oauth_token_url,
        client_id=settings.oauth_client_id,
        timeout=settings.token_timeout,
        size=settings.byo_cache_size,
        opaque_refresh=settings.byo_opaque_refresh,
    )


class Gateway:
    def __init__(self, settings: Settings, accounts: list[Account] | None = None) -> None:
        self.settings = settings
        self.state = make_state(settings)
        self.store = open_from_settings(settings) if settings.account_store else None
        self.pool = AccountPool(
            accounts if accounts is not None else configured_accounts(settings),
            self.state,
            strategy=settings.pool_strategy,
            sticky_ttl=settings.sticky_ttl_seconds,
        )
        self.transport = build_transport(settings)
        self.upstreams = build_upstreams(settings, self.transport)
        self.catalog = ModelCatalog(
            settings.models,
            settings.model_aliases,
            settings.default_model,
            upstream_models={
                k: v for k, v in default_models(settings, self.upstreams).items() if k != DEFAULT_UPSTREAM
            },
            claims=model_claims(self.upstreams),
            default_upstream=DEFAULT_UPSTREAM,
        )
        #: path prefix -> the upstream it pins (``/codex/v1/...``)
        self.pins = pins()
        self.accounts = build_manager(
            settings, self.pool, self.state, self.store, self.upstreams, transport=self.transport
        )
        self.refresher = self.accounts.refresher
        self.byo = build_byo(settings)
        #: limits, usage and metrics: they admit and record every model call
        #: usage accounting: a row per model call, written in batches (and the pool's burn rates)
        self.usage = UsageRecorder.from_settings(
            settings, self.store.usage if self.store is not None else None, lambda: self.pool.accounts
        )
        #: client keys by secret hash (reloaded when the store changes) and their limits
        self.keys = KeyRing(self.store)
        self.accounts.on_store_change.append(self.keys.reload)
        self.limits = KeyLimiter(self.state, self.store)
        counted = [MetricsObserver()] if settings.metrics else []
        #: applies the calls' pending metric values every second (and at close)
        self.metrics_flusher = Flusher()
        self.observers = Observers([self.limits, *counted, self.usage])
        self.dispatcher = Dispatcher(
            self.pool,
            self.upstreams,
            retry_times=settings.retry_times,
            first_byte_timeout=settings.first_byte_timeout,
            credentials=self.accounts,
            own=self.byo,
            observers=self.observers,
            default_upstream=DEFAULT_UPSTREAM,
        )
        self._models_fetched = 0.0
        self._models_task: asyncio.Task[None] | None = None
        #: set on SIGTERM: /readyz answers 503 so a balancer stops sending while streams finish
        self.draining = False

    async def start(self) -> None:
        await self.keys.start()
        await self.accounts.start()
        self.usage.start()
        self.metrics_flusher.start()
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
        """Each upstream's model list, read once per plan among the accounts that may serve it:
        the lists are the union of what the pool is entitled to, not the first account's."""
        self._models_fetched = time.monotonic()
        for name, upstream in self.upstreams.items():
            by_plan: dict[str | None, Account] = {}
            for account in self.pool.accounts:
                if account.usable and account.serves(name):
                    by_plan.setdefault(account.plan, account)
            for account in by_plan.values():
                try:
                    infos = await upstream.list_models(account)
                except Exception as exc:  # the catalogue in settings stays in force
                    log.warning("could not fetch the %s model list (%s plan): %s", name, account.plan, exc)
                    continue
                self.catalog.add_upstream(infos, upstream=None if name == DEFAULT_UPSTREAM else name)

    async def close(self) -> None:
        if self._models_task is not None:
            self._models_task.cancel()
        for upstream in self.upstreams.values():
            await upstream.close()
        await self.accounts.close()
        if self.byo is not None:
            await self.byo.close()
        await self.usage.close()  # before the store closes: what waits is written
        await self.metrics_flusher.close()
        await self.keys.close()
        await self.state.close()
        if self.store is not None:
            self.store.close()
