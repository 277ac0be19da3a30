"""``SqlUsageStore``: the ``usage`` table (one row per model call) on the store's engine.

Rows arrive in batches from the recorder (``gptgate.observability.usage``), each written in one
transaction; everything else reads. On SQLite a batch is a few multi-row ``INSERT … VALUES
(…), (…)`` statements (one step of the engine per statement, not per row: pysqlite gives up and
takes back the GIL around every step, and in a busy gateway each of those hand-offs cost more
than the row); on PostgreSQL one ``executemany`` (psycopg pipelines it). The table has two
indexes, each updated by every row: ``ts`` and ``(key_id, ts)``. Every read filters on ``ts``
first (a range on its index) or on ``key_id`` (the composite, with ``ts`` for a budget window), so a table of millions of rows answers the console's queries
without a scan. Bucketing (per day, per series step) is done by the database: ``floor`` on
PostgreSQL, an integer cast on SQLite (``ts`` is never negative, so the cast truncates to the same
value), never by reading every row back.

Writes use SQLite's ``synchronous=NORMAL`` (WAL): a committed batch survives ``kill -9`` of the
gateway; only a power cut can take the last batches (the same class as quota snapshots).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any, Literal, TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gptgate.storage import transactions
from gptgate.storage.schema import usage

GroupBy = Literal["key", "account", "model", "day", "session"]
SeriesBy = Literal["key", "account", "model"]
DAY = 86400
#: the chart draws this many series at most; the rest are summed under "other"
MAX_SERIES = 8
#: how far back ``latest`` looks for failed requests to put first
ERRORS_LOOKBACK = DAY


class UsageRow(TypedDict):
    """One model call, as the recorder appends it (``id`` is assigned by the database)."""

    ts: float
    request_id: str
    key_id: str | None
    account_id: str | None
    upstream: str | None
    door: str
    model: str | None
    session: str | None
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int
    ttft_ms: int | None
    duration_ms: int
    status: int
    error_class: str | None


COLUMNS: tuple[str, ...] = tuple(UsageRow.__annotations__)
#: a row's values in ``COLUMNS`` order, in C
_VALUES = itemgetter(*COLUMNS)
#: rows per SQLite INSERT statement: 16 parameters each, well inside SQLite's 32,766 (the limit
#: since 3.32); a full batch of 200 rows is two statements
SQLITE_ROWS_PER_INSERT = 100


@dataclass(slots=True)
class Totals:
    """One group's sums over a time range."""

    group: str | None
    requests: int
    errors: int
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int

    @property
    def cache_hit_share(self) -> float | None:
        """Share of input tokens served from the prompt cache (None without input)."""
        return self.cached_tokens / self.input_tokens if self.input_tokens else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "requests": self.requests,
            "errors": self.errors,
            "input_tokens": self.input_tokens,
            "cached_tokens": self.cached_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cache_hit_share": self.cache_hit_share,
        }


@dataclass(slots=True)
class Series:
    """Tokens (input + output) and requests per bucket and per group."""

    buckets: list[float]
    tokens: dict[str, list[int]]
    requests: dict[str, list[int]]


_FAILED = sa.or_(usage.c.status >= 400, usage.c.error_class.is_not(None))
_GROUP_COLUMNS = {"key": usage.c.key_id, "account": usage.c.account_id, "model": usage.c.model}


class SqlUsageStore:
    """The usage table over a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        #: INSERTs run by the driver itself: SQLAlchemy's per-row parameter processing cost ~10 µs
        #: a row, the driver ~2 (this table has no type that needs it)
        self._head = f"INSERT INTO usage ({', '.join(COLUMNS)}) VALUES "
        self._tuple = f"({', '.join(mark for _ in COLUMNS)})"
        self._insert = self._head + self._tuple
        #: SQLite's multi-row INSERT by its number of rows (a few sizes: full chunks and the
        #: remainders a timed flush leaves)
        self._inserts: dict[int, str] = {}

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with transactions.write(self.engine, durable=False) as conn:
            yield conn

    def _bucket(self, seconds: int) -> sa.ColumnElement[Any]:
        """The start of ``ts``'s bucket of ``seconds`` (epoch seconds, an integer)."""
        if self._sqlite:
            index: sa.ColumnElement[Any] = sa.cast(usage.c.ts / seconds, sa.Integer)
        else:
            index = sa.cast(sa.func.floor(usage.c.ts / seconds), sa.BigInteger)
        return index * seconds

    def _group(self, by: GroupBy) -> sa.ColumnElement[Any]:
        if by == "day":
            return self._bucket(DAY)
        if by == "session":
            return usage.c.session
        return _GROUP_COLUMNS[by]

    # -- writes
    def insert_many(self, rows: list[UsageRow]) -> None:
        """Append ``rows`` in one transaction (SQLite: one statement per ``SQLITE_ROWS_PER_INSERT``
        rows; PostgreSQL: one ``executemany``)."""
        if not rows:
            return
        if not self._sqlite:
            with self._write() as conn:
                conn.exec_driver_sql(self._insert, list(map(_VALUES, rows)))
            return
        step = SQLITE_ROWS_PER_INSERT
        with self._write() as conn:
            for start in range(0, len(rows), step):
                chunk = rows[start : start + step]
                params = tuple(chain.from_iterable(map(_VALUES, chunk)))
                conn.exec_driver_sql(self._insert_of(len(chunk)), params)

    def _insert_of(self, n: int) -> str:
        sql = self._inserts.get(n)
        if sql is None:  # at most SQLITE_ROWS_PER_INSERT of them
            sql = self._inserts[n] = self._head + ", ".join([self._tuple] * n)
        return sql

    def prune(self, before: float) -> int:
        """Delete the rows older than ``before``; how many went."""
        with self._write() as conn:
            return int(conn.execute(usage.delete().where(usage.c.ts < before)).rowcount or 0)

    # -- reads
    def totals(
        self, by: GroupBy, since: float, until: float | None = None, *, limit: int = 1000
    ) -> list[Totals]:
        """Sums per key / account / model / day / session over ``[since, until)``, most requests first
        (per day: oldest day first). A day group is its start as epoch seconds, formatted by callers."""
        group = self._group(by).label("grp")
        requests = sa.func.count().label("requests")
        query = (
            sa.select(
                group,
                requests,
                sa.func.sum(sa.case((_FAILED, 1), else_=0)),
                sa.func.sum(usage.c.input_tokens),
                sa.func.sum(usage.c.cached_tokens),
                sa.func.sum(usage.c.output_tokens),
                sa.func.sum(usage.c.reasoning_tokens),
            )
            .where(*_range(since, until))
            .group_by(group)
            .order_by(group if by == "day" else requests.desc(), group.asc().nulls_last())
            .limit(limit)
        )
        if by == "session":
            query = query.where(usage.c.session.is_not(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Totals(None if g is None else str(g), int(n), *(int(v or 0) for v in sums))
            for g, n, *sums in rows
        ]

    def series(self, since: float, bucket_seconds: int, by: SeriesBy, until: float | None = None) -> Series:
        """Per bucket of ``bucket_seconds`` from ``since``: tokens and requests per group (the
        ``MAX_SERIES`` busiest groups by name, the rest as ``other``); every bucket present."""
        bucket_seconds = max(1, int(bucket_seconds))
        bucket = self._bucket(bucket_seconds).label("bucket")
        group = _GROUP_COLUMNS[by].label("grp")
        query = (
            sa.select(
                bucket,
                group,
                sa.func.sum(usage.c.input_tokens + usage.c.output_tokens),
                sa.func.count(),
            )
            .where(*_range(since, until))
            .group_by(bucket, group)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        first = int(since) // bucket_seconds * bucket_seconds
        last = max([first, *(int(r[0]) for r in rows)]) if until is None else int(until)
        buckets = [float(b) for b in range(first, last + 1, bucket_seconds)]
        return _fill(
            buckets, bucket_seconds, [(int(b), _name(g), int(t or 0), int(n)) for b, g, t, n in rows]
        )

    def latest(self, limit: int = 100, now: float | None = None) -> list[dict[str, Any]]:
        """The newest rows, failed ones (of the last day) first; each newest first."""
        cols = [usage.c[c] for c in ("id", *COLUMNS)]
        with self.engine.connect() as conn:
            recent = conn.execute(sa.select(*cols).order_by(usage.c.ts.desc()).limit(limit)).mappings().all()
            since = (
                now if now is not None else max((r["ts"] for r in recent), default=0.0)
            ) - ERRORS_LOOKBACK
            failed = (
                conn.execute(
                    sa.select(*cols)
                    .where(usage.c.ts >= since, _FAILED)
                    .order_by(usage.c.ts.desc())
                    .limit(limit)
                )
                .mappings()
                .all()
            )
        seen = {r["id"] for r in failed}
        rows = [*failed, *(r for r in recent if r["id"] not in seen)]
        return [dict(r) for r in rows[:limit]]

    def page(
        self, since: float | None, until: float | None, after_id: int, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` rows with ``id > after_id`` in ``[since, until)``, by id (export pages)."""
        query = (
            sa.select(*(usage.c[c] for c in ("id", *COLUMNS)))
            .where(usage.c.id > after_id, *_range(since, until))
            .order_by(usage.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def export(
        self, since: float | None = None, until: float | None = None, *, batch: int = 1000
    ) -> Iterator[dict[str, Any]]:
        """Every row in ``[since, until)``, oldest first, read a page at a time (no connection is
        held between pages, so a slow consumer blocks no writer)."""
        after = 0
        while True:
            rows = self.page(since, until, after, batch)
            yield from rows
            if len(rows) < batch:
                return
            after = int(rows[-1]["id"])

    def spend(self, key_id: str, since: float) -> int:
        """Input + output tokens the key used since ``since`` (budgets start from it)."""
        query = sa.select(sa.func.sum(usage.c.input_tokens + usage.c.output_tokens)).where(
            usage.c.key_id == key_id, usage.c.ts >= since
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(usage)).scalar() or 0)


def _range(since: float | None, until: float | None) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    if since is not None:
        clauses.append(usage.c.ts >= since)
    if until is not None:
        clauses.append(usage.c.ts < until)
    return clauses


def _name(group: object) -> str:
    return "none" if group is None else str(group)


def _fill(buckets: list[float], step: int, rows: list[tuple[int, str, int, int]]) -> Series:
    """Dense lists per group (zeros where a bucket had nothing), busiest groups kept by name."""
    if not buckets:
        return Series([], {}, {})
    first = int(buckets[0])
    volume: dict[str, int] = {}
    for _, name, tokens, requests in rows:
        volume[name] = volume.get(name, 0) + tokens + requests
    kept = set(sorted(volume, key=lambda n: -volume[n])[:MAX_SERIES])
    tokens_by: dict[str, list[int]] = {}
    requests_by: dict[str, list[int]] = {}
    for bucket, name, tokens, requests in rows:
        i = (bucket - first) // step
        if not 0 <= i < len(buckets):
            continue
        label = name if name in kept else "other"
        tokens_by.setdefault(label, [0] * len(buckets))[i] += tokens
        requests_by.setdefault(label, [0] * len(buckets))[i] += requests
    return Series(buckets, tokens_by, requests_by)
