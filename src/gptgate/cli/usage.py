"""``gptgate usage``: totals, the latest requests, export and prune, from the store's usage table.

The store comes from the same settings as ``gptgate serve`` (flags, ``GPTGATE_*``, the TOML
config). Rows a running gateway has not written yet (at most ``usage_flush_seconds`` old) are
not seen here.
"""

from __future__ import annotations

import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click
import orjson

from gptgate.cli.store import Opener, store_group, store_of
from gptgate.storage.usage import COLUMNS, DAY

UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
SUMMARY_COLUMNS = ("requests", "errors", "input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens")


def parse_since(value: str | None, now: float | None = None) -> float | None:
    """``24h``, ``7d``, ``30m``, ``2w`` ago; an epoch number; or an ISO date/time (UTC if no zone)."""
    if value is None or value == "":
        return None
    now = time.time() if now is None else now
    if m := re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw])", value.strip()):
        return now - float(m.group(1)) * UNITS[m.group(2)]
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use 24h, 7d, an epoch number or an ISO date") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


usage = store_group(
    "usage", "Usage accounting: one row per model call (totals, latest requests, export, prune)."
)


@usage.command()
@click.option("--by", type=click.Choice(["key", "account", "model", "day"]), default="key", show_default=True)
@click.option("--since", default="24h", show_default=True, help="24h, 7d, an epoch number or an ISO date.")
@click.option("--until", help="End of the range (same forms); default now.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@click.pass_context
def summary(ctx: click.Context, by: str, since: str, until: str | None, as_json: bool) -> None:
    """Totals per key, account, model or day: requests, errors, tokens, cache hit share."""
    rows = store_of(ctx).usage.totals(by, parse_since(since) or 0.0, parse_since(until))  # type: ignore[arg-type]
    if as_json:
        for t in rows:
            click.echo(orjson.dumps(t.as_dict()).decode())
        return
    click.echo(f"{by:<24} " + " ".join(f"{c.split('_')[0]:>10}" for c in SUMMARY_COLUMNS) + "  cache hits")
    for t in rows:
        group = t.group or "-"
        if by == "day" and t.group is not None:
            group = _when(float(t.group))[:10]
        values = " ".join(f"{getattr(t, c):>10}" for c in SUMMARY_COLUMNS)
        share = "-" if t.cache_hit_share is None else f"{t.cache_hit_share:.0%}"
        click.echo(f"{group:<24} {values}  {share:>10}")


@usage.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_context
def requests(ctx: click.Context, limit: int) -> None:
    """The latest requests, failed ones first."""
    for r in store_of(ctx).usage.latest(limit, time.time()):
        outcome = r["error_class"] or str(r["status"])
        click.echo(
            f"{_when(r['ts'])}  {r['door']:<9} {r['model'] or '-':<16} key={r['key_id'] or '-'} "
            f"account={r['account_id'] or '-'} in={r['input_tokens']} cached={r['cached_tokens']} "
            f"out={r['output_tokens']} ttft={r['ttft_ms'] if r['ttft_ms'] is not None else '-'}ms "
            f"{r['duration_ms']}ms {outcome}"
        )


@usage.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--since", help="Start (24h, 7d, an epoch number or an ISO date); default: the first row.")
@click.option("--until", help="End (same forms); default: now.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="File [stdout].")
@click.pass_context
def export(ctx: click.Context, fmt: str, since: str | None, until: str | None, output: Path | None) -> None:
    """Every row in the range, oldest first, as CSV or a JSON array."""
    rows = store_of(ctx).usage.export(parse_since(since), parse_since(until))
    if output is None:
        write_rows(sys.stdout, fmt, rows)
        return
    with output.open("w", newline="") as out:
        write_rows(out, fmt, rows)


def write_rows(out: IO[str], fmt: str, rows: Any) -> None:
    if fmt == "json":
        out.write("[")
        for n, row in enumerate(rows):
            out.write(("," if n else "") + orjson.dumps({c: row[c] for c in COLUMNS}).decode())
        out.write("]\n")
        return
    import csv

    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])


@usage.command()
@click.option("--older-than", default=None, help="Age (90d, 12w, ...); default: usage_retention_days.")
@click.pass_context
def prune(ctx: click.Context, older_than: str | None) -> None:
    """Delete rows older than the retention period (or --older-than)."""
    opener = ctx.find_object(Opener)
    assert opener is not None
    if older_than is None:
        days = opener.settings().usage_retention_days
        if days <= 0:
            click.echo("usage_retention_days is 0 (keep forever): nothing pruned.")
            return
        before = time.time() - days * DAY
    else:
        before = parse_since(older_than) or 0.0
    removed = store_of(ctx).usage.prune(before)
    click.echo(f"pruned {removed} row(s) older than {_when(before)} UTC")
