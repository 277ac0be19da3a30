"""``gptgate keys``: create, list, show, update, revoke and rotate client API keys.

The store comes from the same settings as ``gptgate serve`` (see ``cli/accounts.py``). A secret
is printed once, by ``create`` and ``rotate``, on stdout alone (``--quiet`` prints nothing else)
so it can be piped; it is never stored and cannot be shown again. A running gateway picks up
every change within ``reload_seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click
import orjson

from gptgate.cli.store import echo_table, store_group, store_of

if TYPE_CHECKING:
    from gptgate.keys.model import KeyLimits, KeyRecord
    from gptgate.settings import Settings


def limit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The limit flags ``create`` and ``update`` share (an unset flag leaves the limit alone)."""
    options = [
        click.option("--models", help="Allowed models, comma-separated globs (gpt-5*,claude-*)."),
        click.option("--rpm", type=int, help="Requests per minute."),
        click.option("--tpm", type=int, help="Tokens per minute (input + output)."),
        click.option("--concurrency", type=int, help="Requests in progress at once."),
        click.option("--daily-tokens", type=int, help="Token budget per UTC day."),
        click.option("--weekly-tokens", type=int, help="Token budget per ISO week (UTC)."),
        click.option("--monthly-tokens", type=int, help="Token budget per calendar month (UTC)."),
        click.option("--upstreams", help="Allowed upstreams, comma-separated (codex)."),
        click.option("--max-effort", help="Highest reasoning effort (none..xhigh); higher is lowered."),
        click.option("--see-quota/--no-see-quota", default=None, help="May see pool quota figures."),
        click.option("--expires", help="Expiry: 30d, 12h, 2w or an ISO date/time (UTC)."),
        click.option("--note", help="A note for operators."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _limits(flags: dict[str, Any], base: KeyLimits | None = None) -> KeyLimits:
    from gptgate.keys.model import KeyLimits

    given = {k: v for k, v in flags.items() if v is not None and k not in ("expires", "note")}
    try:
        return KeyLimits.from_json(given, base)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


def _expiry(text: str | None) -> float | None:
    from gptgate.keys.ops import parse_expiry

    if text is None:
        return None
    try:
        return parse_expiry(text)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


keys = store_group("keys", "Manage client API keys (hashed in the store, each with its own limits).")


@keys.command()
@click.argument("name")
@limit_options
@click.option("--quiet", "-q", is_flag=True, help="Print only the secret.")
@click.pass_context
def create(ctx: click.Context, /, name: str, quiet: bool, **flags: Any) -> None:
    """Create a key named NAME and print its secret (shown once)."""
    from gptgate.keys import ops

    limits = _limits(flags)
    record, secret = ops.create(
        store_of(ctx), name, limits, expires_at=_expiry(flags["expires"]), note=flags["note"]
    )
    if not quiet:
        click.echo(f"created {record.name} ({record.id}), limits: {limits.describe()}", err=True)
        click.echo("the secret is shown only now; store it safely:", err=True)
    click.echo(secret)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List keys: prefix, state, expiry, last use and limits (never a secret)."""
    records = store_of(ctx).keys.list()
    if as_json:
        click.echo(orjson.dumps([r.public() for r in records], option=orjson.OPT_INDENT_2).decode())
        return
    if not records:
        click.echo("no keys (create one: gptgate keys create NAME)")
        return
    now = time.time()
    rows = [("ID", "NAME", "PREFIX", "STATE", "EXPIRES", "LAST USED", "LIMITS")]
    rows += [
        (
            r.id,
            r.name,
            r.prefix + "...",
            state(r, now),
            _when(r.expires_at),
            _when(r.last_used_at),
            r.limits.describe(),
        )
        for r in records
    ]
    echo_table(rows)


@keys.command()
@click.argument("key")
@click.pass_context
def show(ctx: click.Context, key: str) -> None:
    """Show one key (by id or name)."""
    record = _find(ctx, key)
    lines = [
        ("id", record.id),
        ("name", record.name),
        ("prefix", record.prefix + "..."),
        ("state", state(record, time.time())),
        ("created", _when(record.created_at)),
        ("expires", _when(record.expires_at)),
        ("last used", _when(record.last_used_at)),
        ("limits", record.limits.describe()),
        ("note", record.note or "-"),
    ]
    for label, value in lines:
        click.echo(f"{label:<10} {value}")


@keys.command()
@click.argument("key")
@limit_options
@click.option("--no-expiry", is_flag=True, help="Remove the expiry.")
@click.pass_context
def update(ctx: click.Context, /, key: str, no_expiry: bool, **flags: Any) -> None:
    """Change a key's limits, expiry or note (flags not given stay as they are)."""
    record = _find(ctx, key)
    values: dict[str, Any] = {"limits": _limits(flags, record.limits)}
    if no_expiry or flags["expires"] is not None:
        values["expires_at"] = None if no_expiry else _expiry(flags["expires"])
    if flags["note"] is not None:
        values["note"] = flags["note"]
    updated = store_of(ctx).keys.update(record.id, values)
    click.echo(f"updated {updated.name} ({updated.id}), limits: {updated.limits.describe()}")


@keys.command()
@click.argument("key")
@click.pass_context
def revoke(ctx: click.Context, key: str) -> None:
    """Revoke a key: refused by running gateways within reload_seconds."""
    record = store_of(ctx).keys.revoke(_find(ctx, key).id)
    click.echo(f"revoked {record.name} ({record.id})")


@keys.command()
@click.argument("key")
@click.option("--quiet", "-q", is_flag=True, help="Print only the secret.")
@click.pass_context
def rotate(ctx: click.Context, key: str, quiet: bool) -> None:
    """Give a key a new secret (printed once); the old one stops working."""
    from gptgate.keys import ops

    record, secret = ops.rotate(store_of(ctx), _find(ctx, key).id)
    if not quiet:
        click.echo(f"rotated {record.name} ({record.id}); the new secret is shown only now:", err=True)
    click.echo(secret)


def _find(ctx: click.Context, key: str) -> KeyRecord:
    record = store_of(ctx).keys.get(key)
    if record is None:
        raise click.ClickException(f"no key {key!r} (see: gptgate keys list)")
    return record


def state(record: KeyRecord, now: float) -> str:
    if record.revoked_at is not None:
        return "revoked"
    if record.expires_at is not None and record.expires_at <= now:
        return "expired"
    return "active"


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def stored_keys_exist(settings: Settings) -> bool:
    """Whether the store holds a usable key (``gptgate serve`` off loopback needs a key)."""
    if not settings.account_store:
        return False
    from gptgate.storage import open_from_settings

    store = open_from_settings(settings)
    try:
        now = time.time()
        return any(state(r, now) == "active" for r in store.keys.list())
    finally:
        store.close()
