"""``gptgate usage`` on a temporary SQLite store: summary, requests, export, prune."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from gptgate.cli import main
from gptgate.cli.usage import parse_since
from gptgate.settings import Settings
from gptgate.storage import open_from_settings
from gptgate.storage.usage import UsageRow

NOW = time.time()


def row(age: float, **over: object) -> UsageRow:
    base: UsageRow = {
        "ts": NOW - age,
        "request_id": f"req_{age}",
        "key_id": "key_a",
        "account_id": "acc_1",
        "upstream": "codex",
        "door": "chat",
        "model": "gpt-5.5",
        "session": None,
        "input_tokens": 200,
        "cached_tokens": 100,
        "output_tokens": 20,
        "reasoning_tokens": 5,
        "ttft_ms": 40,
        "duration_ms": 90,
        "status": 200,
        "error_class": None,
    }
    base.update(over)  # type: ignore[typeddict-item]
    return base


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    store = open_from_settings(Settings(data_dir=data))
    store.migrate()
    store.usage.insert_many(
        [
            row(100 * 86400),
            row(3600),
            row(60, key_id="key_b", status=429, error_class="usage_limit_reached", input_tokens=0),
        ]
    )
    store.close()
    return data


def run(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["usage", "--data-dir", str(data_dir), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_summary_by_key(data_dir: Path) -> None:
    lines = run(data_dir, "summary", "--by", "key", "--since", "24h", "--json").splitlines()
    assert [orjson.loads(line) for line in lines] == [
        {
            "group": "key_a",
            "requests": 1,
            "errors": 0,
            "input_tokens": 200,
            "cached_tokens": 100,
            "output_tokens": 20,
            "reasoning_tokens": 5,
            "cache_hit_share": 0.5,
        },
        {
            "group": "key_b",
            "requests": 1,
            "errors": 1,
            "input_tokens": 0,
            "cached_tokens": 100,
            "output_tokens": 20,
            "reasoning_tokens": 5,
            "cache_hit_share": None,
        },
    ]
    table = run(data_dir, "summary", "--since", "7d").splitlines()
    assert table[0].split() == [
        "key",
        "requests",
        "errors",
        "input",
        "cached",
        "output",
        "reasoning",
        "cache",
        "hits",
    ]
    assert table[1].split() == ["key_a", "1", "0", "200", "100", "20", "5", "50%"]


def test_requests_export_prune(data_dir: Path, tmp_path: Path) -> None:
    latest = run(data_dir, "requests", "--limit", "2").splitlines()
    assert len(latest) == 2 and latest[0].endswith("usage_limit_reached") and "key=key_b" in latest[0]
    exported = list(csv.DictReader(io.StringIO(run(data_dir, "export", "--since", "7d"))))
    assert [(r["key_id"], r["status"], r["error_class"]) for r in exported] == [
        ("key_a", "200", ""),
        ("key_b", "429", "usage_limit_reached"),
    ]
    out = tmp_path / "all.json"
    run(data_dir, "export", "--format", "json", "-o", str(out))
    assert [r["input_tokens"] for r in orjson.loads(out.read_bytes())] == [200, 200, 0]
    assert run(data_dir, "prune").startswith("pruned 1 row(s) older than ")
    assert len(orjson.loads(run(data_dir, "export", "--format", "json"))) == 2


def test_parse_since() -> None:
    assert parse_since("24h", now=1000.0 + 86400) == 1000.0
    assert parse_since("2w", now=2 * 7 * 86400.0) == 0.0
    assert parse_since("1700000000") == 1_700_000_000.0
    assert parse_since("2023-11-14T22:13:20") == 1_700_000_000.0
    assert parse_since(None) is None
