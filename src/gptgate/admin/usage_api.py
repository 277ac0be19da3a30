"""``/admin/api/usage/...`` and ``/admin/api/pool``: what the usage rows and the pool say.

- ``GET /usage/summary?since=&until=&by=key|account|model|day`` totals per group
- ``GET /usage/series?since=&bucket=&by=key|account|model`` tokens and requests per bucket
- ``GET /usage/requests?limit=`` the latest requests, failed ones first
- ``GET /usage/export?format=csv|json&since=&until=`` every row, streamed a page at a time
- ``GET /pool`` per account: quota windows with reset times and burn projection, cache hit
  share; per session key: requests and cache hit share

This is the operator's view: accounts by name (never a token), client keys by their short id.
Before answering, this worker writes the usage rows waiting in its memory, so a request just
served shows at once. Store calls run in a thread.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from gptgate import SERVER_NAME
from gptgate.accounts.model import Account, QuotaWindow
from gptgate.admin.errors import AdminError, json_reply
from gptgate.gateway import Gateway
from gptgate.http import gateway_of
from gptgate.storage.usage import COLUMNS, DAY, GroupBy, SeriesBy, SqlUsageStore

GROUPS: tuple[GroupBy, ...] = ("key", "account", "model", "day")
SERIES: tuple[SeriesBy, ...] = ("key", "account", "model")
MAX_BUCKETS = 2000
EXPORT_PAGE = 2000
POOL_WINDOW = 7 * DAY
MAX_SESSIONS = 50
REQUEST_FIELDS = (
    "upstream",
    "door",
    "model",
    "input_tokens",
    "cached_tokens",
    "output_tokens",
    "reasoning_tokens",
    "ttft_ms",
    "duration_ms",
    "status",
    "error_class",
)


async def _usage(request: web.Request) -> tuple[Gateway, SqlUsageStore]:
    gateway = gateway_of(request)
    if gateway.store is None:
        raise AdminError(
            "This gateway runs without a store (account_store is off): no usage is recorded.",
            409,
            "no_account_store",
        )
    await gateway.usage.flush()
    return gateway, gateway.store.usage


def _number(request: web.Request, name: str, default: float | None) -> float | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise AdminError(f"{name} must be a number (epoch seconds).", code="invalid_parameter") from None


def _choice(request: web.Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.query.get(name, default)
    if value not in allowed:
        raise AdminError(f"{name} must be one of {', '.join(allowed)}.", code="invalid_parameter")
    return value


def _names(gateway: Gateway) -> dict[str, str]:
    return {a.id: a.name for a in gateway.pool.accounts}


def _label(by: str, group: str | None, names: dict[str, str]) -> str | None:
    if by == "day" and group is not None:
        return datetime.fromtimestamp(int(group), UTC).strftime("%Y-%m-%d")
    if by == "account" and group is not None:
        return names.get(group, group)
    return group


async def summary(request: web.Request) -> web.Response:
    gateway, usage = await _usage(request)
    by: GroupBy = _choice(request, "by", GROUPS, "key")  # type: ignore[assignment]
    since = _number(request, "since", time.time() - DAY) or 0.0
    until = _number(request, "until", None)
    totals = await asyncio.to_thread(usage.totals, by, since, until)
    names = _names(gateway)
    rows = []
    for t in totals:
        row = t.as_dict()
        row["group"] = _label(by, t.group, names)
        rows.append(row)
    return json_reply({"rows": rows})


async def series(request: web.Request) -> web.Response:
    gateway, usage = await _usage(request)
    by: SeriesBy = _choice(request, "by", SERIES, "key")  # type: ignore[assignment]
    now = time.time()
    since = _number(request, "since", now - DAY) or 0.0
    bucket = int(_number(request, "bucket", 3600) or 3600)
    if bucket < 1 or (now - since) / bucket > MAX_BUCKETS:
        raise AdminError(
            f"bucket must be at least 1 and give at most {MAX_BUCKETS} buckets.", code="invalid_parameter"
        )
    data = await asyncio.to_thread(usage.series, since, bucket, by, now)
    names = _names(gateway) if by == "account" else {}
    return json_reply(
        {
            "buckets": data.buckets,
            "series": {names.get(k, k): v for k, v in data.tokens.items()},
            "requests": {names.get(k, k): v for k, v in data.requests.items()},
        }
    )


async def latest(request: web.Request) -> web.Response:
    gateway, usage = await _usage(request)
    limit = int(_number(request, "limit", 100) or 100)
    limit = max(1, min(limit, 1000))
    found = await asyncio.to_thread(usage.latest, limit, time.time())
    names = _names(gateway)
    rows = [
        {
            "time": r["ts"],
            "key": r["key_id"],
            "account": names.get(r["account_id"], r["account_id"]) if r["account_id"] else None,
            **{f: r[f] for f in REQUEST_FIELDS},
        }
        for r in found
    ]
    return json_reply({"rows": rows})


async def export(request: web.Request) -> web.StreamResponse:
    _, usage = await _usage(request)
    fmt = _choice(request, "format", ("csv", "json"), "csv")
    since = _number(request, "since", None)
    until = _number(request, "until", None)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8" if fmt == "csv" else "application/json",
            "Content-Disposition": f'attachment; filename="gptgate-usage.{fmt}"',
            "Cache-Control": "no-store",
            "Server": SERVER_NAME,  # streamed: prepared here, before the guard sees it
        }
    )
    await response.prepare(request)
    await response.write(csv_header() if fmt == "csv" else b"[")
    after, first = 0, True
    while True:
        rows = await asyncio.to_thread(usage.page, since, until, after, EXPORT_PAGE)
        if rows:
            await response.write(csv_rows(rows) if fmt == "csv" else json_rows(rows, first))
            first = False
        if len(rows) < EXPORT_PAGE:
            break
        after = int(rows[-1]["id"])
    if fmt == "json":
        await response.write(b"]\n")
    await response.write_eof()
    return response


def csv_header() -> bytes:
    return (",".join(COLUMNS) + "\r\n").encode()


def csv_rows(rows: list[dict[str, Any]]) -> bytes:
    """Rows as CSV lines (the columns of ``COLUMNS``, empty for None)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
    return out.getvalue().encode()


def json_rows(rows: list[dict[str, Any]], first: bool) -> bytes:
    body = b",".join(orjson.dumps({c: r[c] for c in COLUMNS}) for r in rows)
    return body if first else b"," + body


# -- the pool
def _window(
    gateway: Gateway, account: Account, name: str, window: QuotaWindow | None
) -> dict[str, Any] | None:
    if window is None:
        return None
    return {
        "used_percent": window.used_percent,
        "resets_at": window.resets_at,
        "window_minutes": window.window_minutes,
        "projected_exhaustion_at": gateway.usage.burn.projection(account.id, name, window),
    }


async def pool(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    accounts = list(gateway.pool.accounts)
    gateway.usage.burn.observe_all(accounts)
    share: dict[str | None, float | None] = {}
    sessions: list[dict[str, Any]] = []
    if gateway.store is not None:
        _, usage = await _usage(request)
        since = time.time() - POOL_WINDOW
        by_account = await asyncio.to_thread(usage.totals, "account", since)
        share = {t.group: t.cache_hit_share for t in by_account}
        by_session = await asyncio.to_thread(usage.totals, "session", since, None, limit=MAX_SESSIONS)
        sessions = [
            {"session": t.group, "requests": t.requests, "cache_hit_share": t.cache_hit_share}
            for t in by_session
        ]
    now = time.time()
    return json_reply(
        {
            "accounts": [
                {
                    "id": a.id,
                    "name": a.name,
                    "plan": a.plan,
                    "status": a.status,
                    "cooldown_until": a.cooldown_until if a.cooldown_until > now else None,
                    "windows": {
                        "primary": _window(gateway, a, "primary", a.quota.primary),
                        "secondary": _window(gateway, a, "secondary", a.quota.secondary),
                    },
                    "cache_hit_share": share.get(a.id),
                }
                for a in accounts
            ],
            "sessions": sessions,
        }
    )


def routes() -> list[web.RouteDef]:
    """The routes, relative to ``/admin/api`` (the admin app adds its auth around each)."""
    return [
        web.get("/usage/summary", summary),
        web.get("/usage/series", series),
        web.get("/usage/requests", latest),
        web.get("/usage/export", export),
        web.get("/pool", pool),
    ]
