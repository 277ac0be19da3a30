"""``gptgate accounts``: add, import, list, show, enable, disable and remove stored accounts.

The store comes from the same settings as ``gptgate serve`` (flags, ``GPTGATE_*``, the TOML
config). Tokens are never printed: ``show`` says "set" or "not set" with a short fingerprint.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click
import orjson

from gptgate.accounts import ops
from gptgate.accounts.ops import TOKENS, Entry, fingerprint, public, redact_url
from gptgate.cli.store import echo_table, store_group, store_of

if TYPE_CHECKING:
    from gptgate.storage import AccountRecord


accounts = store_group("accounts", "Manage the stored ChatGPT accounts.")


# -- commands


_STDIN = "; '-' reads it from stdin (keeps it out of shell history)."


@accounts.command()
@click.option("--access-token", help="ChatGPT access token (JWT)" + _STDIN)
@click.option("--refresh-token", help="OAuth refresh token" + _STDIN)
@click.option("--id-token", help="OAuth id token (JWT)" + _STDIN)
@click.option("--session-token", help="chatgpt.com session token" + _STDIN)
@click.option("--account-id", help="ChatGPT account/workspace id (Team); read from the token if omitted.")
@click.option("--name", help="A unique label [the e-mail].")
@click.option("--proxy", help="Egress proxy URL for this account.")
@click.pass_context
def add(
    ctx: click.Context,
    access_token: str | None,
    refresh_token: str | None,
    id_token: str | None,
    session_token: str | None,
    account_id: str | None,
    name: str | None,
    proxy: str | None,
) -> None:
    """Add one account from its tokens."""
    tokens = [access_token, refresh_token, id_token, session_token]
    access_token, refresh_token, id_token, session_token = (
        sys.stdin.readline().strip() if t == "-" else t for t in tokens
    )
    entry = Entry(access_token, refresh_token, id_token, session_token, account_id, None, name, proxy)
    try:
        added = ops.add(store_of(ctx), entry)
    except ValueError as exc:
        raise click.UsageError(f"{exc}: give --access-token, --refresh-token or --session-token") from exc
    click.echo(f"added {added.name} ({added.id}) {_who(added)}")


@accounts.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.pass_context
def import_(ctx: click.Context, file: Any) -> None:
    """Import accounts from FILE ('-' for stdin).

    FILE is a Codex CLI auth.json, a JSON array of objects (access_token, refresh_token,
    id_token, session_token, account_id, email, name, proxy; camelCase too), JSON lines, or one
    token per line. An account already stored (same account id and e-mail) is skipped. Exits 1
    when any entry failed.
    """
    text = file.read()
    total = sum(1 for _ in ops.read_entries(text))
    with click.progressbar(length=total, label="importing", file=sys.stderr) as bar:

        def progress(entries: Any) -> Any:
            for item in entries:
                yield item
                bar.update(1)

        report = ops.import_text(store_of(ctx), text, progress=progress)
    for failure in report.failed:
        click.echo(f"failed {failure}", err=True)
    click.echo(
        f"added {len(report.added)}, skipped {report.skipped} (already stored), failed {len(report.failed)}"
    )
    if report.failed:
        ctx.exit(1)


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (no tokens) instead of a table.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List accounts: plan, status, token expiry and quota use."""
    records = store_of(ctx).list()
    if as_json:
        click.echo(orjson.dumps([public(r) for r in records], option=orjson.OPT_INDENT_2).decode())
        return
    if not records:
        click.echo("no accounts (add one: gptgate accounts add / import)")
        return
    now = time.time()
    rows = [("NAME", "EMAIL", "PLAN", "STATUS", "EXPIRES IN", "5H USED / RESET", "WEEKLY USED / RESET")]
    rows += [
        (
            r.name,
            r.email or "-",
            r.plan or "-",
            r.status,
            _until(r.expires_at, now),
            _window(r.quota.get("primary"), now),
            _window(r.quota.get("secondary"), now),
        )
        for r in records
    ]
    echo_table(rows)


@accounts.command()
@click.argument("name")
@click.pass_context
def show(ctx: click.Context, name: str) -> None:
    """Show one account (tokens only as set / not set and a fingerprint)."""
    r = find(ctx, name)
    now = time.time()
    reason = f" ({r.status_reason})" if r.status_reason else ""
    lines = [
        ("name", r.name),
        ("id", r.id),
        ("account id", r.account_id or "-"),
        ("email", r.email or "-"),
        ("plan", r.plan or "-"),
        ("status", r.status + reason),
        ("proxy", redact_url(r.proxy) if r.proxy else "-"),
        ("upstreams", ", ".join(r.upstreams) if r.upstreams else "every one"),
        ("expires in", _until(r.expires_at, now)),
        *((t.replace("_", " "), fingerprint(getattr(r, t))) for t in TOKENS),
        ("token version", str(r.token_version)),
        ("last refresh", _ago(r.last_refresh_at, now)),
        ("5h quota", _window(r.quota.get("primary"), now)),
        ("weekly quota", _window(r.quota.get("secondary"), now)),
        ("last used", _ago(r.last_used_at, now)),
        ("added", _ago(r.created_at, now)),
    ]
    for label, value in lines:
        click.echo(f"{label:<14} {value}")


@accounts.command()
@click.argument("name")
@click.pass_context
def enable(ctx: click.Context, name: str) -> None:
    """Put an account back in service."""
    r = ops.set_enabled(store_of(ctx), find(ctx, name).id, True)
    click.echo(f"enabled {r.name}")


@accounts.command()
@click.argument("name")
@click.option("--reason", help="Why (shown by list and show).")
@click.pass_context
def disable(ctx: click.Context, name: str, reason: str | None) -> None:
    """Take an account out of service (kept, not used)."""
    r = ops.set_enabled(store_of(ctx), find(ctx, name).id, False, reason)
    click.echo(f"disabled {r.name}")


@accounts.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove(ctx: click.Context, name: str, yes: bool) -> None:
    """Delete an account and its tokens."""
    r = find(ctx, name)
    if not yes:
        click.confirm(f"remove {r.name} {_who(r)}?", abort=True)
    ops.remove(store_of(ctx), r.id)
    click.echo(f"removed {r.name}")


@accounts.command()
@click.argument("name")
@click.argument("upstreams", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Serve every upstream (the default for new accounts).")
@click.pass_context
def upstreams(ctx: click.Context, name: str, upstreams: tuple[str, ...], every: bool) -> None:
    """Choose which upstreams an account serves: codex, chatgpt_web (or --all)."""
    if every == bool(upstreams):
        raise click.UsageError("name the upstreams (codex, chatgpt_web) or pass --all")
    try:
        r = ops.set_upstreams(store_of(ctx), find(ctx, name).id, None if every else list(upstreams))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"{r.name} serves {', '.join(r.upstreams) if r.upstreams else 'every upstream'}")


@accounts.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def clear(ctx: click.Context, yes: bool) -> None:
    """Delete every stored account and its tokens."""
    store = store_of(ctx)
    if not yes:
        click.confirm(f"remove all {len(store.list())} stored account(s)?", abort=True)
    click.echo(f"removed {ops.clear(store)} account(s)")


# -- presenting


def find(ctx: click.Context, name: str) -> AccountRecord:
    record = store_of(ctx).get(name)
    if record is None:
        raise click.ClickException(f"no account named {name!r} (see: gptgate accounts list)")
    return record


def _who(r: AccountRecord) -> str:
    return f"<{r.email or r.account_id or 'unknown'}>"


def _span(seconds: float) -> str:
    s = int(abs(seconds))
    d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
    return f"{d}d {h}h" if d else f"{h}h {m}m" if h else f"{m}m"


def _until(when: float | None, now: float) -> str:
    if when is None:
        return "-"
    return _span(when - now) if when > now else f"expired {_span(now - when)} ago"


def _ago(when: float | None, now: float) -> str:
    return "-" if when is None else f"{_span(now - when)} ago"


def _window(window: Any, now: float) -> str:
    if not isinstance(window, dict) or window.get("used_percent") is None:
        return "-"
    resets = window.get("resets_at")
    if isinstance(resets, int | float) and resets <= now:
        return "0% (reset)"
    used = f"{float(window['used_percent']):.0f}%"
    return f"{used} / {_span(resets - now)}" if isinstance(resets, int | float) else used
