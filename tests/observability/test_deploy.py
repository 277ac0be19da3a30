"""The Grafana dashboard and the Prometheus rules parse, and name only metrics that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import yaml

from gptgate.observability import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
METRIC = re.compile(r"\bgptgate_[a-z_]+")


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((DEPLOY / "grafana" / "gptgate-dashboard.json").read_bytes())
    return data


def rules() -> list[dict[str, Any]]:
    data = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]


def test_dashboard_panels_query_known_metrics() -> None:
    data = dashboard()
    assert data["uid"] == "gptgate" and data["schemaVersion"] >= 30
    exprs = [t["expr"] for panel in data["panels"] for t in panel["targets"]]
    assert len(exprs) >= 14
    names = {name for expr in exprs for name in METRIC.findall(expr)}
    assert names <= metrics.metric_names(), names - metrics.metric_names()
    titles = {panel["title"] for panel in data["panels"]}
    assert {"Accounts by state", "Time to first token p50 / p95", "Limit refusals by kind"} <= titles
    assert len({panel["id"] for panel in data["panels"]}) == len(data["panels"])


def test_alert_rules_are_well_formed_and_query_known_metrics() -> None:
    alerts = rules()
    assert {r["alert"] for r in alerts} >= {
        "GptgatePoolNearlyExhausted",
        "GptgateRefreshFailures",
        "GptgateHighErrorRate",
        "GptgateSlowFirstToken",
    }
    for rule in alerts:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert re.fullmatch(r"\d+[smh]", rule["for"])
        assert rule["expr"].count("(") == rule["expr"].count(")")
        names = set(METRIC.findall(rule["expr"]))
        assert names and names <= metrics.metric_names(), (rule["alert"], names - metrics.metric_names())


def test_metric_names_cover_every_family() -> None:
    assert {
        "gptgate_requests_total",
        "gptgate_time_to_first_token_seconds_bucket",
        "gptgate_request_duration_seconds_count",
        "gptgate_upstream_errors_total",
        "gptgate_accounts",
        "gptgate_cooldowns_total",
        "gptgate_token_refreshes_total",
        "gptgate_active_streams",
        "gptgate_limit_refusals_total",
    } <= metrics.metric_names()
