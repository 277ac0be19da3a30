"""``gptgate accounts test`` and ``gptgate accounts refresh``: act on stored accounts now.

Both run the gateway's own code (the builders of ``gptgate.gateway``: the same refresher,
account manager and usage fetcher) through ``gptgate.accounts.ops``, on one account or
``--all``, and print one line per account. ``test`` reads the usage endpoint, which spends no
turn of the account's quota.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import click

from gptgate.cli.store import Opener, store_of

if TYPE_CHECKING:
    from gptgate.accounts.manager import AccountManager
    from gptgate.accounts.ops import Outcome
    from gptgate.storage import AccountRecord

Action = Callable[["AccountManager", "AccountRecord"], Awaitable["Outcome"]]


@click.command()
@click.argument("name", required=False)
@click.option("--all", "every", is_flag=True, help="Every stored account.")
@click.pass_context
def test(ctx: click.Context, name: str | None, every: bool) -> None:
    """Check accounts against the upstream: token, plan and quota (spends no turn)."""
    from gptgate.accounts import ops

    if asyncio.run(_run(ctx, name, every, ops.test)):
        raise SystemExit(1)


@click.command()
@click.argument("name", required=False)
@click.option("--all", "every", is_flag=True, help="Every stored account.")
@click.pass_context
def refresh(ctx: click.Context, name: str | None, every: bool) -> None:
    """Refresh tokens now (the rotated refresh token is stored before anything else)."""
    from gptgate.accounts import ops

    if asyncio.run(_run(ctx, name, every, ops.refresh)):
        raise SystemExit(1)


async def _run(ctx: click.Context, name: str | None, every: bool, action: Action) -> int:
    from gptgate.accounts.pool import AccountPool
    from gptgate.gateway import build_manager
    from gptgate.state.memory import MemoryState
    from gptgate.upstreams.registry import build_transport, build_upstreams

    if not name and not every:
        raise click.UsageError("name an account or pass --all")
    opener = ctx.find_object(Opener)
    assert opener is not None
    settings = opener.settings()
    store = store_of(ctx)
    records = store.list() if every else [r for r in [store.get(name or "")] if r is not None]
    if not records:
        raise click.ClickException(f"no account named {name!r} (see: gptgate accounts list)")
    state = MemoryState()
    transport = build_transport(settings)
    upstreams = build_upstreams(settings, transport)
    pool = AccountPool([], state)
    manager = build_manager(settings, pool, state, store, upstreams, background=False, transport=transport)
    failed = 0
    try:
        for record in records:
            outcome = await action(manager, record)
            failed += not outcome.ok
            click.echo(f"{record.name}: {outcome.message}")
    finally:
        await manager.refresher.close()
        for upstream in upstreams.values():
            await upstream.close()
        await transport.close()
        await state.close()
    return failed
