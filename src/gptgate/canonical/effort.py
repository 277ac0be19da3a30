"""Reasoning effort from the knobs other APIs use: thinking budgets and named levels.

Anthropic (``thinking.budget_tokens``, ``output_config.effort``) and Gemini
(``thinkingConfig.thinkingBudget``, ``thinkingLevel``) both express "how hard to think"; the
upstream wants one of its effort names. The buckets live here so every door maps alike.
"""

from __future__ import annotations

from typing import Final

#: Upper bounds (inclusive) of thinking-budget buckets, in tokens.
BUDGET_BUCKETS: Final = ((0, "none"), (4_096, "low"), (16_384, "medium"), (32_768, "high"))
TOP_EFFORT: Final = "xhigh"

#: Level names other APIs use -> the upstream's names.
LEVEL_NAMES: Final = {
    "none": "none",
    "minimal": "minimal",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "max": "xhigh",
    "xhigh": "xhigh",
}


def effort_for_budget(budget: int | None) -> str | None:
    """``None`` or a negative budget (Gemini's "dynamic") leaves the effort to the defaults."""
    if budget is None or budget < 0:
        return None
    for bound, effort in BUDGET_BUCKETS:
        if budget <= bound:
            return effort
    return TOP_EFFORT


def effort_for_level(level: str | None) -> str | None:
    """A named level (``low``, ``high``, ``max`` ...) in the upstream's vocabulary; unknown -> None."""
    if not level:
        return None
    return LEVEL_NAMES.get(level.strip().lower())
