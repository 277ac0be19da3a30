"""The model names the seeds list resolve to something served (settings.py ``DEFAULT_ALIASES``)."""

from __future__ import annotations

import pytest

from gptgate.dispatch.models import ModelCatalog, Resolved
from gptgate.protocols.models import model_ids
from gptgate.settings import DEFAULT_ALIASES, DEFAULT_MODELS

EXPECTED = {
    # the Codex platform's list (seed 003): 404 before these aliases
    "gpt-5-codex-low": Resolved("gpt-5.3-codex", "low"),
    "gpt-5-codex-medium": Resolved("gpt-5.3-codex", "medium"),
    "gpt-5-codex-high": Resolved("gpt-5.3-codex", "high"),
    "gpt-5-minimal": Resolved("gpt-5.5", "minimal"),
    "gpt-5-low": Resolved("gpt-5.5", "low"),
    "gpt-5-medium": Resolved("gpt-5.5", "medium"),
    "gpt-5-high": Resolved("gpt-5.5", "high"),
    "gpt-5-codex": Resolved("gpt-5.3-codex", None),
    "codex-mini-latest": Resolved("gpt-5.4-mini", None),
    # dated names (seed 002)
    "gpt-5-2025-08-07": Resolved("gpt-5.5", None),
    "gpt-5.2-2025-12-11": Resolved("gpt-5.2", None),
    "gpt-5.1-2025-11-13": Resolved("gpt-5.1", None),
}


def catalog() -> ModelCatalog:
    return ModelCatalog(list(DEFAULT_MODELS), dict(DEFAULT_ALIASES), "gpt-5.5")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_name_resolves_with_the_effort_it_names(name: str) -> None:
    assert catalog().resolve(name) == EXPECTED[name]
    assert catalog().resolve(name, "codex") == EXPECTED[name]  # under /codex/v1 too


def test_the_aliases_are_listed() -> None:
    listed = {entry[0]: entry[3] for entry in model_ids(catalog())}
    for name in EXPECTED:
        assert listed.get(name) == "codex", name
