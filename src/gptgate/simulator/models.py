"""The model catalog of ``GET /backend-api/codex/models`` (protocol §6.2)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

EFFORT_DESCRIPTIONS = {
    "none": "No reasoning; fastest responses",
    "minimal": "Very light reasoning",
    "low": "Fast responses with lighter reasoning",
    "medium": "Balances speed and reasoning depth for everyday tasks",
    "high": "Greater reasoning depth for complex problems",
    "xhigh": "Extra high reasoning depth for complex problems",
    "max": "Maximum reasoning depth for the hardest problems",
    "ultra": "Maximum reasoning with automatic task delegation",
}
STANDARD_EFFORTS = ("low", "medium", "high", "xhigh")
# slug -> (display name, description, efforts, default effort, responses-lite, visibility)
KNOWN_MODELS: dict[str, tuple[str, str, tuple[str, ...], str, bool, str]] = {
    "gpt-6.1-sol": (
        "GPT-6.1-Sol",
        "Our most capable model for complex, demanding work.",
        ("low", "medium", "high", "xhigh", "max", "ultra"),
        "low",
        True,
        "list",
    ),
    "gpt-5.5": ("GPT-5.5", "Frontier agentic coding model.", STANDARD_EFFORTS, "medium", False, "list"),
    "gpt-5.4": ("GPT-5.4", "Strong everyday coding model.", STANDARD_EFFORTS, "medium", False, "list"),
    "gpt-5.4-mini": (
        "GPT-5.4-Mini",
        "Smaller, faster and cheaper.",
        STANDARD_EFFORTS,
        "medium",
        False,
        "list",
    ),
    "gpt-5.3-codex": (
        "GPT-5.3-Codex",
        "Codex-tuned coding model.",
        STANDARD_EFFORTS,
        "medium",
        False,
        "list",
    ),
    "gpt-5.2": ("GPT-5.2", "General model.", ("none", *STANDARD_EFFORTS), "medium", False, "list"),
    "gpt-5.1-codex": (
        "GPT-5.1-Codex",
        "Codex-tuned coding model.",
        ("low", "medium", "high"),
        "medium",
        False,
        "hide",
    ),
    "gpt-5.1": ("GPT-5.1", "General model.", ("none", "low", "medium", "high"), "medium", False, "hide"),
    "codex-auto-review": ("Codex Auto Review", "Reviews approvals.", ("low", "medium"), "low", False, "hide"),
}


def model_info(slug: str, priority: int) -> dict[str, Any]:
    """One ``ModelInfo`` entry; slugs outside the table get generic values."""
    name, description, efforts, default, lite, visibility = KNOWN_MODELS.get(
        slug, (slug, f"Simulated model {slug}.", STANDARD_EFFORTS, "medium", False, "list")
    )
    levels = [{"effort": effort, "description": EFFORT_DESCRIPTIONS[effort]} for effort in efforts]
    return {
        "slug": slug,
        "display_name": name,
        "description": description,
        "default_reasoning_level": default,
        "supported_reasoning_levels": levels,
        "shell_type": "shell_command",
        "visibility": visibility,
        "supported_in_api": True,
        "priority": priority,
        "upgrade": None,
        "base_instructions": "",
        "model_messages": None,
        "supports_reasoning_summaries": True,
        "default_reasoning_summary": "none",
        "support_verbosity": True,
        "default_verbosity": "low",
        "apply_patch_tool_type": "freeform",
        "web_search_tool_type": "text_and_image",
        "truncation_policy": {"mode": "tokens", "limit": 10000},
        "supports_parallel_tool_calls": not lite,
        "context_window": 272000,
        "max_context_window": 272000,
        "auto_compact_token_limit": None,
        "effective_context_window_percent": 95,
        "experimental_supported_tools": [],
        "input_modalities": ["text", "image"],
        "minimal_client_version": "0.144.0",
        "prefer_websockets": False,
        "use_responses_lite": lite,
        # Codex 0.169 decodes a tier only with its description (else it drops the whole list)
        "service_tiers": [{"id": "priority", "name": "Fast", "description": "2x speed, increased usage"}],
    }


def catalog_body(slugs: list[str]) -> tuple[bytes, str]:
    """The serialised ``{"models": [...]}`` document and its ETag (quoted)."""
    body = orjson.dumps({"models": [model_info(slug, index + 1) for index, slug in enumerate(slugs)]})
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
