"""Prometheus metrics: what the gateway served, how fast, and the state of its account pool.

Callers use the small functions below, one call per request or per account event, never per
stream event. The metric objects are module globals (the prometheus-client idiom), rebuilt by
:func:`use_multiprocess` when ``server.run`` forks several workers: each worker then writes its
values to files in a shared directory and ``/metrics`` sums them with ``MultiProcessCollector``,
whichever worker answers the scrape. Accounts by state are not stored at all: they are read at
scrape time from the callback the gateway registers (every worker sees the same pool, so the
answering worker's view is the answer, never a sum over workers).

Cardinality is bounded: model names and error classes pass through a bounded allow-set (past
:data:`MAX_LABEL_VALUES` distinct names, new ones count as ``other``); key and account ids
appear only in ``gptgate_requests_by_id_total``, and only when ``metrics_label_ids`` is on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

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

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Our names are all plain: the 0.0.4 text format is exact, and every Prometheus version reads it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_LABEL_VALUES = 64
OTHER = "other"
ACCOUNT_STATES = ("active", "cooling", "disabled", "needs_relogin", "deactivated")
LIMIT_KINDS = frozenset({"rpm", "tpm", "concurrency", "budget", "model", "upstream", "effort", "expired"})
TTFT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0, 120.0)
DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

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
        #: label children by label values: ``labels()`` takes a lock and builds a tuple per call
        self.calls: dict[tuple[str, str, int], Any] = {}
        self.doors: dict[str, tuple[Any, Any]] = {}


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
_label_ids = False
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
    """One finished call (streamed or not): its count, its times, its error class."""
    m = _m
    key = (door, m.models(model), status)
    counter = m.calls.get(key)
    if counter is None:
        counter = m.calls[key] = m.requests.labels(key[0], key[1], str(status))
    counter.inc()
    timers = m.doors.get(door)
    if timers is None:
        timers = m.doors[door] = (m.ttft.labels(door), m.duration.labels(door))
    if ttft is not None:
        timers[0].observe(ttft)
    timers[1].observe(duration)
    if error_class is not None:
        m.request_errors.labels(door, m.error_classes(error_class)).inc()
    if _label_ids:
        m.by_id.labels(key_id or "none", account_id or "none", str(status)).inc()


def stream_opened() -> None:
    _m.streams.inc()


def stream_closed() -> None:
    _m.streams.dec()


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
    global _label_ids
    _label_ids = label_ids


# -- the scrape
def exposition(accounts: dict[str, int] | None = None) -> bytes:
    """Every metric in the Prometheus text format (summed over workers in multiprocess mode);
    ``accounts``: the accounts by state when no callback is registered."""
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
