from __future__ import annotations

import pytest

from gptgate.canonical.effort import effort_for_budget, effort_for_level


@pytest.mark.parametrize(
    ("budget", "effort"),
    [
        (None, None),
        (-1, None),  # Gemini's "dynamic": leave it to the defaults
        (0, "none"),
        (1024, "low"),
        (4096, "low"),
        (4097, "medium"),
        (16384, "medium"),
        (31999, "high"),  # what Claude Code sends with --model claude-sonnet-4-5
        (32768, "high"),
        (64000, "xhigh"),
    ],
)
def test_budget_buckets(budget: int | None, effort: str | None) -> None:
    assert effort_for_budget(budget) == effort


@pytest.mark.parametrize(
    ("level", "effort"),
    [
        ("high", "high"),
        ("max", "xhigh"),
        ("LOW", "low"),
        (" medium ", "medium"),
        ("bogus", None),
        (None, None),
    ],
)
def test_levels(level: str | None, effort: str | None) -> None:
    assert effort_for_level(level) == effort
