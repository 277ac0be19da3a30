"""The account manager: loads the pool, keeps it current, and answers credential failures.

It owns what happens around the hot path, never on it:

- at start, the accounts from the store (and those given in settings, not stored);
- a listener that reloads an account when another process announces new tokens or a status;
- a poller that reads the store's change counter every ``reload_every`` seconds and, when it
  moved (an account added, disabled or removed by the CLI, the admin API or another instance),
  brings the whole pool up to date and tells the other listeners (client keys);
- a scheduler that refreshes tokens a little before they expire, staggered per account so a
  pool of fifty does not refresh at once;
- a writer that persists quota snapshots (from ``x-codex-*`` headers) every so often;
- the dispatcher's :class:`~gptgate.dispatch.dispatcher.Credentials`: refresh on 401 (once),
  disable a deactivated account, mark a dead grant "needs re-login".
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable

from gptgate import errors
from gptgate.accounts.model import Account, Quota, QuotaWindow
from gptgate.accounts.pool import SHORT_COOLDOWN, AccountPool
from gptgate.accounts.refresh import CHANNEL, DEACTIVATED_CODES, Refresher, adopt
from gptgate.state.base import PoolState
from gptgate.storage.base import AccountRecord, Store

log = logging.getLogger("gptgate.accounts")

#: An access token this close to its expiry is refreshed before use.
EXPIRY_MARGIN = 60.0
SCHEDULE_INTERVAL = 30.0
QUOTA_FLUSH_INTERVAL = 60.0


def account_from_record(record: AccountRecord) -> Account:
    account = Account.from_tokens(
        record.access_token or "",
        account_id=record.account_id,
        refresh_token=record.refresh_token,
        id_token=record.id_token,
        name=record.name,
    )
    account.id = record.id
    account.email = record.email or account.email
    account.plan = record.plan or account.plan
    account.expires_at = record.expires_at if record.expires_at is not None else account.expires_at
    account.status = record.status
    account.status_reason = record.status_reason
    account.proxy = record.proxy
    account.session_token = record.session_token
    account.token_version = record.token_version
    account.last_refresh_at = record.last_refresh_at
    account.quota = quota_from_json(record.quota)
    account.upstreams = frozenset(record.upstreams) if record.upstreams is not None else None
    account.stored = True
    return account


def quota_from_json(data: dict[str, object]) -> Quota:
    def window(value: object) -> QuotaWindow | None:
        if not isinstance(value, dict):
            return None
        return QuotaWindow(
            used_percent=float(value.get("used_percent") or 0.0),
            window_minutes=value.get("window_minutes"),
            resets_at=value.get("resets_at"),
        )

    plan = data.get("plan_type")
    updated = data.get("updated_at")
    return Quota(
        primary=window(data.get("primary")),
        secondary=window(data.get("secondary")),
        plan_type=plan if isinstance(plan, str) else None,
        updated_at=float(updated) if isinstance(updated, int | float) else 0.0,
    )


UsageFetcher = Callable[[Account], Awaitable[Quota]]


class AccountManager:
    def __init__(
        self,
        pool: AccountPool,
        state: PoolState,
        store: Store | None,
        refresher: Refresher,
        *,
        refresh_before: float,
        usage: UsageFetcher | None = None,
        usage_every: float = 0.0,
        reload_every: float = 0.0,
    ) -> None:
        self.pool = pool
        self.state = state
        self.store = store
        self.refresher = refresher
        self._refresh_before = refresh_before
        self._usage = usage
        self._usage_every = usage_every
        self._reload_every = reload_every
        self._tasks: list[asyncio.Task[None]] = []
        self._quota_flushed: dict[str, float] = {}
        self._version = 0
        #: called after the store changed (client keys reload from here)
        self.on_store_change: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> None:
        """Load the stored accounts and start the background work."""
        if self.store is not None:
            self._version = await asyncio.to_thread(self.store.version)
            for record in await asyncio.to_thread(self.store.list):
                self.pool.put(account_from_record(record))
                self._quota_flushed[record.id] = float(record.quota.get("updated_at") or 0.0)
        self._tasks = [
            asyncio.ensure_future(self._listen()),
            asyncio.ensure_future(self._schedule()),
        ]
        if self.store is not None:
            self._tasks.append(asyncio.ensure_future(self._flush_quotas_forever()))
            if self._reload_every > 0:
                self._tasks.append(asyncio.ensure_future(self._poll_store_forever()))
        if self._usage is not None and self._usage_every > 0:
            self._tasks.append(asyncio.ensure_future(self._poll_usage_forever()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.store is not None:
            with contextlib.suppress(Exception):
                await self._flush_quotas()
        await self.refresher.close()

    # -- Credentials (called by the dispatcher)
    async def ensure_fresh(self, account: Account) -> None:
        pending = self.ensure_fresh_now(account)
        if pending is not None:
            await pending

    def ensure_fresh_now(self, account: Account) -> Awaitable[object] | None:
        """``ensure_fresh`` without a coroutine for a token that is fresh (nearly every call):
        the refresh to await when one is due, else None."""
        if account.access_token and (
            account.expires_at is None or account.expires_at - time.time() > EXPIRY_MARGIN
        ):
            return None
        if account.refresh_token or account.session_token or account.stored:
            return self.refresher.refresh(account)
        return None

    async def recover(self, account: Account, error: errors.AccountError, seen_version: int) -> bool:
        if error.code in DEACTIVATED_CODES:
            await self.set_status(account, "deactivated", error.message)
            return False
        if isinstance(error, errors.AccountUnauthorized):
            if account.token_version != seen_version:  # refreshed while this request was failing
                return account.usable
            outcome = await self.refresher.refresh(account, seen_version)
            if outcome == "unavailable":  # the token endpoint had a bad moment: try again soon
                error.retry_after = SHORT_COOLDOWN
            return outcome in ("refreshed", "adopted") and account.usable
        return False

    async def set_status(self, account: Account, status: str, reason: str | None) -> None:
        log.warning("account %s is now %s: %s", account.label(), status, reason)
        account.status = status
        account.status_reason = reason
        if self.store is not None and account.stored:
            await asyncio.to_thread(self.store.set_status, account.id, status, reason)  # type: ignore[arg-type]
            await self.state.publish(CHANNEL, "status " + account.id)

    # -- background
    async def reload(self) -> None:
        """Bring the pool up to date with the store: new accounts in, removed ones out, status,
        proxy and tokens of the others adopted (in-flight counts and cooldowns are kept)."""
        store = self.store
        if store is None:
            return
        self._version = await asyncio.to_thread(store.version)
        records = {r.id: r for r in await asyncio.to_thread(store.list)}
        for account in list(self.pool.accounts):
            if account.stored and account.id not in records:
                self.pool.drop(account.id)
                log.info("account %s was removed from the store", account.label())
        for record in records.values():
            current = self.pool.get(record.id)
            if current is None:
                self.pool.put(account_from_record(record))
                self._quota_flushed.setdefault(record.id, float(record.quota.get("updated_at") or 0.0))
            else:
                adopt(current, record)
        for listener in self.on_store_change:
            await listener()

    async def _poll_store_forever(self) -> None:
        """The store's change counter, every ``reload_every`` seconds: one small read."""
        store = self.store
        assert store is not None
        while True:
            await asyncio.sleep(self._reload_every)
            try:
                if await asyncio.to_thread(store.version) != self._version:
                    await self.reload()
            except Exception as exc:
                log.warning("cannot read the store for changes: %s", exc)

    async def _listen(self) -> None:
        """Reload an account another process changed (``tokens <id>``, ``status <id>``, ``added <id>``)."""
        if self.store is None:
            return
        store = self.store
        async with self.state.subscribe(CHANNEL) as messages:
            async for message in messages:
                what, _, account_id = message.partition(" ")
                if what == "reload":  # anything changed: the whole pool and the keys
                    await self.reload()
                    continue
                try:
                    record = await asyncio.to_thread(store.get, account_id)
                except Exception as exc:
                    log.warning("cannot reload account %s: %s", account_id, exc)
                    continue
                current = self.pool.get(account_id)
                if record is None:
                    self.pool.drop(account_id)
                elif current is None:
                    self.pool.put(account_from_record(record))
                else:
                    adopt(current, record)

    async def _schedule(self) -> None:
        """Refresh tokens ahead of expiry, each account at its own offset within the margin."""
        while True:
            await asyncio.sleep(SCHEDULE_INTERVAL)
            now = time.time()
            for account in list(self.pool.accounts):
                if account.status != "active" or account.expires_at is None:
                    continue
                if not (account.refresh_token or account.session_token or account.stored):
                    continue
                if account.expires_at - now <= self._refresh_before * _stagger(account.id):
                    self.refresher.refresh_soon(account)

    async def check(self, account: Account) -> Quota:
        """Refresh if due, then read the account's quota from the usage endpoint (one 401 is
        answered by a refresh, as on the hot path). Raises the upstream error otherwise."""
        if self._usage is None:
            raise errors.UpstreamUnavailable("no usage endpoint is configured")
        await self.ensure_fresh(account)
        version = account.token_version
        try:
            quota = await self._usage(account)
        except errors.AccountError as exc:
            if not await self.recover(account, exc, version):
                raise
            quota = await self._usage(account)
        account.quota = quota
        return quota

    async def store_quota(self, account: Account) -> None:
        """Persist the account's latest quota snapshot now (``accounts test``, the admin API)."""
        if self.store is not None and account.stored:
            await asyncio.to_thread(self.store.update_quota, account.id, dataclasses.asdict(account.quota))
            self._quota_flushed[account.id] = account.quota.updated_at

    async def _poll_usage_forever(self) -> None:
        """Keep quota windows current for idle accounts too, one account at a time, spread out."""
        while True:
            accounts = [a for a in self.pool.accounts if a.usable]
            pause = self._usage_every / max(1, len(accounts))
            for account in accounts:
                await asyncio.sleep(pause)
                if time.time() - account.quota.updated_at < self._usage_every / 2:
                    continue  # headers of recent traffic are fresher than a poll
                try:
                    await self.check(account)
                except Exception as exc:
                    log.info("usage of %s not read: %s", account.label(), exc)
            if not accounts:
                await asyncio.sleep(self._usage_every)

    async def _flush_quotas_forever(self) -> None:
        while True:
            await asyncio.sleep(QUOTA_FLUSH_INTERVAL)
            try:
                await self._flush_quotas()
            except Exception as exc:
                log.warning("cannot store quota snapshots: %s", exc)

    async def _flush_quotas(self) -> None:
        store = self.store
        if store is None:
            return
        for account in list(self.pool.accounts):
            updated = account.quota.updated_at
            if account.stored and updated > self._quota_flushed.get(account.id, 0.0):
                await asyncio.to_thread(store.update_quota, account.id, dataclasses.asdict(account.quota))
                self._quota_flushed[account.id] = updated


def _stagger(account_id: str) -> float:
    """A factor in [0.5, 1.0) fixed per account: when, within the margin, it refreshes."""
    digest = hashlib.sha256(account_id.encode()).digest()
    return 0.5 + digest[0] / 512
