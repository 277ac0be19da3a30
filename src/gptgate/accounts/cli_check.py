"""``gptgate accounts test`` and ``gptgate accounts refresh``: act on stored accounts now.

Both run the same code the gateway runs (the refresher and the account manager) against the
configured upstream, on one account or ``--all``, and print one line per account. ``test``
reads the usage endpoint, which spends no turn of the account's quota.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import TYPE_CHECKING

import click

from gptgate.accounts.cli import Opener, store_of

if TYPE_CHECKING:
    from gptgate.accounts.manager import AccountManager
    from gptgate.accounts.model import Account
    from gptgate.settings import Settings
    from gptgate.storage import Store


@click.command()
@click.argument("name", required=False)
@click.option("--all", "every", is_flag=True, help="Every stored account.")
@click.pass_context
def test(ctx: click.Context, name: str | None, every: bool) -> None:
    """Check accounts against the upstream: token, plan and quota (spends no turn)."""
    failed = asyncio.run(_run(ctx, name, every, _test_one))
    if failed:
        raise SystemExit(1)


@click.command()
@click.argument("name", required=False)
@click.option("--all", "every", is_flag=True, help="Every stored account.")
@click.pass_context
def refresh(ctx: click.Context, name: str | None, every: bool) -> None:
    """Refresh tokens now (the rotated refresh token is stored before anything else)."""
    failed = asyncio.run(_run(ctx, name, every, _refresh_one))
    if failed:
        raise SystemExit(1)


async def _run(ctx: click.Context, name: str | None, every: bool, action: _Action) -> int:
    if not name and not every:
        raise click.UsageError("name an account or pass --all")
    opener = ctx.find_object(Opener)
    assert opener is not None
    settings = opener.settings()
    store = store_of(ctx)
    records = store.list() if every else [r for r in [store.get(name or "")] if r is not None]
    if not records:
        raise click.ClickException(f"no account named {name!r} (see: gptgate accounts list)")
    manager, close = _manager(settings, store)
    failed = 0
    try:
        from gptgate.accounts.manager import account_from_record

        for record in records:
            account = account_from_record(record)
            manager.pool.put(account)
            ok, line = await action(manager, account)
            failed += not ok
            click.echo(f"{record.name}: {line}")
    finally:
        await close()
    return failed


def _manager(settings: Settings, store: Store) -> tuple[AccountManager, _Close]:
    from gptgate.accounts.manager import AccountManager
    from gptgate.accounts.pool import AccountPool
    from gptgate.accounts.refresh import Refresher
    from gptgate.gateway import make_transport
    from gptgate.state.memory import MemoryState
    from gptgate.upstreams.codex.encode import user_agent
    from gptgate.upstreams.codex.usage import fetch_usage

    state = MemoryState()
    transport = make_transport(settings)
    agent = user_agent(settings.originator, settings.client_version)
    refresher = Refresher(
        state,
        store,
        token_url=settings.oauth_token_url,
        client_id=settings.oauth_client_id,
        timeout=settings.token_timeout,
        session_url=settings.session_base_url,
    )

    async def usage(account: Account) -> object:
        return await fetch_usage(transport, settings.codex_base_url, account, agent)

    manager = AccountManager(
        AccountPool([], state),
        state,
        store,
        refresher,
        refresh_before=settings.refresh_before_seconds,
        usage=usage,  # type: ignore[arg-type]
    )

    async def close() -> None:
        await refresher.close()
        await transport.close()
        await state.close()

    return manager, close


async def _test_one(manager: AccountManager, account: Account) -> tuple[bool, str]:
    from gptgate import errors

    if account.status != "active":
        return False, f"{account.status}" + (f" ({account.status_reason})" if account.status_reason else "")
    try:
        quota = await manager.check(account)
    except errors.GatewayError as exc:
        return False, f"FAILED: {exc.message}" + (
            f" -> now {account.status}" if account.status != "active" else ""
        )
    if manager.store is not None:
        await asyncio.to_thread(manager.store.update_quota, account.id, dataclasses.asdict(quota))
    parts = [f"ok, plan {quota.plan_type or account.plan or '?'}"]
    for label, window in (("5h", quota.primary), ("weekly", quota.secondary)):
        if window is not None:
            reset = "" if window.resets_at is None else f", resets in {_span(window.resets_at - time.time())}"
            parts.append(f"{label} {window.used_percent:.0f}% used{reset}")
    return True, "; ".join(parts)


async def _refresh_one(manager: AccountManager, account: Account) -> tuple[bool, str]:
    outcome = await manager.refresher.refresh(account)
    if outcome in ("refreshed", "adopted"):
        left = "" if account.expires_at is None else f", expires in {_span(account.expires_at - time.time())}"
        return True, f"{outcome}{left}"
    if outcome == "rejected":
        return False, f"refresh refused -> {account.status} ({account.status_reason})"
    if outcome == "impossible":
        return False, "no refresh token stored (add one: gptgate accounts add --refresh-token -)"
    return False, "token endpoint unavailable, try again later (the account is unchanged)"


def _span(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60}m"
    return f"{seconds // 60}m{seconds % 60}s"


if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    _Action = Callable[[AccountManager, Account], Awaitable[tuple[bool, str]]]
    _Close = Callable[[], Awaitable[None]]
