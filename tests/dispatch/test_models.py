from __future__ import annotations

import pytest

from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.models import ModelCatalog, Resolved
from gptgate.dispatch.prepare import prepare, supported_effort
from gptgate.errors import ModelNotFound
from gptgate.settings import DEFAULT_ALIASES, DEFAULT_MODELS


def catalog() -> ModelCatalog:
    return ModelCatalog(DEFAULT_MODELS, DEFAULT_ALIASES, "gpt-5.5")


@pytest.mark.parametrize(
    ("name", "resolved"),
    [
        ("claude-opus-4-8", Resolved("gpt-5.5", None)),  # Claude Code's default
        ("claude-sonnet-4-5", Resolved("gpt-5.5", None)),
        ("claude-haiku-4-5", Resolved("gpt-5.4-mini", None)),
        ("claude-3-7-sonnet-latest", Resolved("gpt-5.5", None)),
        ("gemini-2.5-pro", Resolved("gpt-5.5", None)),
        ("gemini-2.5-flash", Resolved("gpt-5.4-mini", None)),
        ("gemini-2.5-flash-lite", Resolved("gpt-5.4-mini", "low")),  # the more specific glob wins
        ("models/gemini-2.5-flash", Resolved("gpt-5.4-mini", None)),
        ("claude-opus-4-8-high", Resolved("gpt-5.5", "high")),
        ("gpt-5.5", Resolved("gpt-5.5", None)),
    ],
)
def test_client_names_resolve(name: str, resolved: Resolved) -> None:
    assert catalog().resolve(name) == resolved


def test_globs_are_not_listed_and_unknown_names_404() -> None:
    cat = catalog()
    assert not any("*" in a for a in cat.aliases())
    with pytest.raises(ModelNotFound):
        cat.resolve("llama-3")


def test_effort_is_clamped_to_what_the_upstream_says_a_model_supports() -> None:
    cat = catalog()
    cat.add_upstream(
        [
            {
                "slug": "gpt-5.5",
                "supported_reasoning_levels": [{"effort": e} for e in ("low", "medium", "high")],
            }
        ]
    )
    assert supported_effort(cat, "gpt-5.5", "xhigh") == "high"
    assert supported_effort(cat, "gpt-5.5", "none") == "low"
    assert supported_effort(cat, "gpt-5.5", "medium") == "medium"
    assert supported_effort(cat, "gpt-5.4", "none") == "none"  # catalogue-only: levels unknown, untouched
    req = CanonicalRequest(
        model="claude-opus-4-8", input=[], origin="anthropic", reasoning={"effort": "none"}
    )
    assert prepare(req, cat, default_effort=None, summary="auto").reasoning == {
        "effort": "low",
        "summary": "auto",
    }


def test_a_remembered_resolution_follows_the_catalogue_and_the_claims() -> None:
    cat = catalog()
    assert cat.resolve("gpt-5.5-high") == Resolved("gpt-5.5", "high")  # an effort suffix, remembered
    assert cat.resolve("gpt-5.5-high") == Resolved("gpt-5.5", "high")
    cat.add_upstream([{"slug": "gpt-5.5-high"}])  # the upstream now lists the name itself
    assert cat.resolve("gpt-5.5-high") == Resolved("gpt-5.5-high", None)
    claimed: set[str] = set()
    claiming = ModelCatalog(DEFAULT_MODELS, {}, "gpt-5.5", claims=[("web", claimed.__contains__)])
    with pytest.raises(ModelNotFound):
        claiming.resolve("g-1")
    claimed.add("g-1")  # an account listed it: a claim's answer is asked again every time
    assert claiming.resolve("g-1") == Resolved("g-1", None, "web")
    claimed.clear()
    with pytest.raises(ModelNotFound):
        claiming.resolve("g-1")
