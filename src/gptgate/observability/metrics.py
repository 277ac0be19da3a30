"""Prometheus metrics: what the gateway served, how fast, and the state of its account pool.

Callers use the small functions below, one call per request or per account event, never per
stream event. The metric objects are module globals (the prometheus-client idiom), rebuilt by
:func:`use_multiprocess` when ``server.run`` forks several workers: each worker then writes its
values to files in a shared directory and ``/metrics`` sums them with ``MultiProcessCollector``,
whichever worker answers the scrape. Accounts by state are not stored at all: they are read at
scrape time from the callback the gateway registers (every worker sees the same pool, so the
answering worker's view is the answer, never a sum over workers).

Per-request values (:func:`call_finished`, the open streams) are only accumulated in plain dicts,
lists and ints: no lock, no prometheus-client call on the request path. :func:`flush` applies them
to the metric objects in bulk: before every scrape (:func:`exposition`), on a :class:`Flusher`
timer every :data:`FLUSH_SECONDS` (so another worker's scrape sees this worker's values at most
that late) and when the gateway closes. Every accumulation and flush runs on one thread, the
event loop's.

Cardinality is bounded: model names and error classes pass through a bounded allow-set (past
:data:`MAX_LABEL_VALUES` distinct names, new ones count as ``other``); key and account ids
appear only in ``gptgate_requests_by_id_total``, and only when ``metrics_label_ids`` is on.
"""

from __future__ import annotations

import asyncio
import logging
import os
from bisect import bisect_left
from collections.abc import Callable, Iterable

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gptgate.background import Background

log = logging.getLogger("gptgate")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Our names are all plain: the 0.0.4 text format is exact, and every Prometheus version reads it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_LABEL_VALUES = 64
OTHER = "other"
ACCOUNT_STATES = ("active", "cooling", "disabled", "needs_relogin", "deactivated")
LIMIT_KINDS = frozenset({"rpm", "tpm", "concurrency", "budget", "model", "upstream", "effort", "expired"})
TTFT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0, 120.0)
DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
#: how often each process applies its pending per-request values (another worker's scrape lag)
FLUSH_SECONDS = 1.0

disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series double the output and serve no panel

AccountStates = Callable[[], dict[str, int]]


class _Bounded:
    """Label values admitted as seen, up to ``limit`` distinct ones; later ones become 'other'."""

    __slots__ = ("limit", "seen")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self.seen:
            return value
        if len(self.seen) >= self.limit:
            return OTHER
        self.seen.add(value)
        return value


class _Metrics:
    """Every metric of the gateway, registered in ``registry`` (none in multiprocess mode)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        r = registry
        self.requests = Counter(
            "gptgate_requests", "Requests served, by front door, model and HTTP status.",
            ["door", "model", "status"], registry=r,
        )  # fmt: skip
        self.request_errors = Counter(
            "gptgate_request_errors", "Failed requests by front door and error class.",
            ["door", "error_class"], registry=r,
        )  # fmt: skip
        self.by_id = Counter(
            "gptgate_requests_by_id", "Requests by client key and account (only with metrics_label_ids).",
            ["key_id", "account_id", "status"], registry=r,
        )  # fmt: skip
        self.ttft = Histogram(
            "gptgate_time_to_first_token_seconds", "Time from request to the first token, by front door.",
            ["door"], buckets=TTFT_BUCKETS, registry=r,
        )  # fmt: skip
        self.duration = Histogram(
            "gptgate_request_duration_seconds", "Time from request to the end of the answer, by front door.",
            ["door"], buckets=DURATION_BUCKETS, registry=r,
        )  # fmt: skip
        self.upstream_errors = Counter(
            "gptgate_upstream_errors", "Upstream failures by error class.", ["error_class"], registry=r
        )
        self.cooldowns = Counter(
            "gptgate_cooldowns", "Account cool-downs started, by reason.", ["reason"], registry=r
        )
        self.refreshes = Counter(
            "gptgate_token_refreshes", "Token refreshes by outcome.", ["outcome"], registry=r
        )
        self.limit_refusals = Counter(
            "gptgate_limit_refusals", "Requests refused by a client key limit, by kind.", ["kind"], registry=r
        )
        self.streams = Gauge(
            "gptgate_active_streams", "Answers being streamed now.", registry=r, multiprocess_mode="livesum"
        )
        self.models = _Bounded(MAX_LABEL_VALUES)
        self.error_classes = _Bounded(MAX_LABEL_VALUES)
        self.reasons = _Bounded(MAX_LABEL_VALUES)
        # -- pending per-request values, applied by flush()
        #: calls since the last flush by (door, model, status); errors by (door, error class);
        #: by (key id, account id, status)
        self.counted: dict[tuple[str, str, int], int] = {}
        self.errored: dict[tuple[str, str], int] = {}
        self.by_ids: dict[tuple[str, str, str], int] = {}
        #: each door's histogram values since this process started
        self.times: dict[str, _DoorTimes] = {}
        #: answers being streamed now, by this process; and the value last set on the gauge
        self.open_streams = 0
        self.streams_set = 0


class _Times:
    """One histogram child's values since the process started: the count in each bucket (as
    ``Histogram.observe`` files it: the first upper bound >= the value, +Inf last) and the sum,
    added in call order, so the flushed sum is the very float ``observe`` would have made (times
    are differences of monotonic clocks: never NaN, which ``observe`` files in no bucket)."""

    __slots__ = ("counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def apply(self, child: Histogram) -> None:
        """Set ``child``'s buckets and sum to these values.

        prometheus-client has no bulk observe: this relies on ``Histogram._buckets`` (one
        ``values.ValueClass`` per upper bound, +Inf last, each holding its own bucket's count, not
        the cumulative one) and ``Histogram._sum`` (a ``ValueClass``), both set with the value
        class's ``set``. tests/observability/test_metrics_flush.py fails if that changes.
        Totals are set, not deltas added: a flush repeated never counts twice, and in multiprocess
        mode this process's file holds this process's totals, as ``observe`` would have left it."""
        for value, n in zip(child._buckets, self.counts, strict=True):
            value.set(n)
        child._sum.set(self.total)


class _DoorTimes:
    """A door's time to first token and duration values (its histogram children are looked up
    at flush time: a door shows in the exposition once its values are applied)."""

    __slots__ = ("duration", "flushed", "ttft")

    def __init__(self) -> None:
        self.ttft = _Times(TTFT_BUCKETS)
        self.duration = _Times(DURATION_BUCKETS)
        #: calls counted in the children (every call has a duration; not every one a ttft)
        self.flushed = 0

    def flush(self, m: _Metrics, door: str) -> None:
        calls = sum(self.duration.counts)
        if calls != self.flushed:
            self.ttft.apply(m.ttft.labels(door))
            self.duration.apply(m.duration.labels(door))
            self.flushed = calls


class _AccountStates(Collector):
    """``gptgate_accounts{state=...}``: the registered callback's counts, read at scrape time,
    else those the scraping handler found in its gateway (``scraped``)."""

    def __init__(self, scraped: dict[str, int] | None = None) -> None:
        self.scraped = scraped

    def collect(self) -> list[Metric]:
        family = GaugeMetricFamily("gptgate_accounts", "Accounts by state.", labels=["state"])
        counts = dict.fromkeys(ACCOUNT_STATES, 0)
        found = _account_states() if _account_states is not None else self.scraped
        if found is not None:
            for state, n in found.items():
                key = state if state in counts else OTHER
                counts[key] = counts.get(key, 0) + n
        for state, n in counts.items():
            family.add_metric([state], n)
        return [family]


def _build() -> tuple[_Metrics, CollectorRegistry]:
    registry = CollectorRegistry()
    multi = _multiprocess_dir() is not None
    built = _Metrics(None if multi else registry)
    if not multi:
        ProcessCollector(registry=registry)
    return built, registry


def _multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


_account_states: AccountStates | None = None
#: ``metrics_label_ids``: calls are also counted by key and account id (set by :func:`configure`)
count_ids = False
_m, _registry = _build()


# -- what callers call
def call_finished(
    door: str,
    model: str,
    status: int,
    error_class: str | None,
    ttft: float | None,
    duration: float,
    key_id: str | None = None,
    account_id: str | None = None,
) -> None:
    """One finished call (streamed or not): its count, its times, its error class. Only
    accumulated here; :func:`flush` hands it to the metric objects."""
    m = _m
    if model not in m.models.seen:  # the bound's check, without its call for the names it knows
        model = m.models(model)
    key = (door, model, status)
    counted = m.counted
    counted[key] = counted.get(key, 0) + 1
    times = m.times.get(door)
    if times is None:
        times = m.times[door] = _DoorTimes()
    if ttft is not None:
        t = times.ttft
        t.counts[bisect_left(TTFT_BUCKETS, ttft)] += 1
        t.total += ttft
    t = times.duration
    t.counts[bisect_left(DURATION_BUCKETS, duration)] += 1
    t.total += duration
    if error_class is not None:
        errors = (door, m.error_classes(error_class))
        m.errored[errors] = m.errored.get(errors, 0) + 1
    if count_ids:
        ids = (key_id or "none", account_id or "none", str(status))
        m.by_ids[ids] = m.by_ids.get(ids, 0) + 1


def stream_opened() -> None:
    _m.open_streams += 1


def stream_closed() -> None:
    _m.open_streams -= 1


def upstream_error(error_class: str) -> None:
    _m.upstream_errors.labels(_m.error_classes(error_class)).inc()


def cooldown_started(reason: str) -> None:
    _m.cooldowns.labels(_m.reasons(reason)).inc()


def refresh_finished(outcome: str) -> None:
    _m.refreshes.labels(outcome).inc()


def limit_refused(kind: str) -> None:
    _m.limit_refusals.labels(kind if kind in LIMIT_KINDS else OTHER).inc()


def set_account_states(fn: AccountStates | None) -> None:
    """Register the callback that counts the pool's accounts by state at scrape time."""
    global _account_states
    _account_states = fn


def configure(label_ids: bool) -> None:
    """Settings: ``label_ids`` (``metrics_label_ids``) adds the per key / account counter."""
    global count_ids
    count_ids = label_ids


# -- applying what waits
def flush() -> None:
    """Apply this process's pending per-request values to the metric objects (in multiprocess
    mode: write them to this worker's files, where every worker's scrape reads them)."""
    m = _m
    if m.counted:
        counted, m.counted = m.counted, {}  # taken first: a failure loses counts, never doubles them
        for (door, model, status), n in counted.items():
            m.requests.labels(door, model, str(status)).inc(n)
    if m.errored:
        errored, m.errored = m.errored, {}
        for labels, n in errored.items():
            m.request_errors.labels(*labels).inc(n)
    if m.by_ids:
        by_ids, m.by_ids = m.by_ids, {}
        for ids, n in by_ids.items():
            m.by_id.labels(*ids).inc(n)
    for door, times in m.times.items():
        times.flush(m, door)
    if m.open_streams != m.streams_set:
        # a set, not inc/dec: each process's gauge is its own count ("livesum" adds them up)
        m.streams.set(m.open_streams)
        m.streams_set = m.open_streams


class Flusher:
    """Runs :func:`flush` every ``seconds`` in this process while started, and once more at close."""

    def __init__(self, seconds: float = FLUSH_SECONDS) -> None:
        self.seconds = seconds
        self._timer = Background()

    def start(self) -> None:
        self._timer.start(self._run)

    async def close(self) -> None:
        await self._timer.stop()
        flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            try:
                flush()
            except Exception:  # the next tick tries again; the request path never sees it
                log.exception("metrics: could not apply the pending values")


# -- the scrape
def exposition(accounts: dict[str, int] | None = None) -> bytes:
    """Every metric in the Prometheus text format (summed over workers in multiprocess mode);
    ``accounts``: the accounts by state when no callback is registered. This process's pending
    values are applied first."""
    flush()
    path = _multiprocess_dir()
    registry = CollectorRegistry()
    if path is None:
        registry.register(_Chain(_registry))
    else:
        multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    registry.register(_AccountStates(accounts))
    return generate_latest(registry)


class _Chain(Collector):
    """This process's registry, inside the per-scrape one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


async def metrics_handler(request: web.Request) -> web.Response:
    """``GET /metrics``: the Prometheus text format."""
    accounts = None
    if _account_states is None:
        from gptgate.http import GATEWAY  # here: http -> gateway -> pool imports this module
        from gptgate.observability.health import gateway_states

        gateway = request.app.get(GATEWAY)
        if gateway is not None:
            accounts = await gateway_states(gateway)
    body = exposition(accounts)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


# -- several worker processes
def use_multiprocess(path: str) -> None:
    """Switch this process to multiprocess mode, writing under ``path`` (an empty directory).

    Call it in the parent before forking workers and before any value is recorded: the metric
    objects are rebuilt on the file-backed value class, so each worker writes its own files.
    """
    global _m, _registry
    os.environ[MULTIPROC_ENV] = path
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    _m, _registry = _build()


def process_dead(pid: int) -> None:
    """A worker exited: drop its live gauges (active streams) from the sums."""
    path = _multiprocess_dir()
    if path is not None:
        multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


def metric_names() -> set[str]:
    """Every sample name this module can expose (dashboards and alert rules are checked against it)."""
    names = {"gptgate_accounts"}
    for metric in vars(_m).values():
        if isinstance(metric, Counter):
            names.add(metric._name + "_total")
        elif isinstance(metric, Histogram):
            names |= {metric._name + s for s in ("_bucket", "_sum", "_count")}
        elif isinstance(metric, Gauge):
            names.add(metric._name)
    return names
