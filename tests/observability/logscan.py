"""The suite-wide log scan: every log line the test run writes lands in one file, scanned at the end.

``tests/conftest.py`` wires it: for the whole session ``GPTGATE_LOG_FILE`` names the file, so
every ``gptgate serve`` the tests start appends its lines there (through the gateway's own
redaction), and the test process's own records go there through the same handler. After the
last test, :func:`scan` reads the file with the redaction patterns used as detectors (a clean
line is one that redaction leaves unchanged); any hit fails the run, reported by line number
and kind, never by the secret itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gptgate.observability.logs import guarded
from gptgate.observability.redact import secret_kinds

ENV = "GPTGATE_LOG_FILE"


def scan(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, kinds of secret) for each line of ``path`` that still holds a secret."""
    if not path.exists():
        return []
    hits = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            kinds = secret_kinds(line)
            if kinds:
                hits.append((number, kinds))
    return hits


@contextmanager
def collecting(path: Path) -> Iterator[Path]:
    """Send this process's gptgate records and every gateway subprocess's lines to ``path``."""
    path.touch()
    previous = os.environ.get(ENV)
    os.environ[ENV] = str(path)
    handler = guarded(logging.FileHandler(path, mode="a", encoding="utf-8"))
    root = logging.getLogger()
    root.addHandler(handler)
    ours = logging.getLogger("gptgate")
    level = ours.level
    ours.setLevel(logging.DEBUG)  # every level is scanned (handlers see records, whatever root's level)
    try:
        yield path
    finally:
        ours.setLevel(level)
        root.removeHandler(handler)
        handler.close()
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous


class ScanAtEnd:
    """A plugin whose ``pytest_sessionfinish`` fails the run when the log holds a secret."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        hits = scan(self.path)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = (
            sum(1 for _ in self.path.open(encoding="utf-8", errors="replace")) if self.path.exists() else 0
        )
        if not hits:
            if reporter is not None and lines:
                reporter.write_line(f"log secrets scan: {lines} log lines, no secret ({self.path})")
            return
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.write_line(
                f"log secrets scan FAILED: secrets in {len(hits)} of {lines} lines of {self.path}:"
            )
            for number, kinds in hits[:50]:
                reporter.write_line(f"  line {number}: {', '.join(kinds)}")
