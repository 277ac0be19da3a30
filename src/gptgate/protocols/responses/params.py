"""The documented Responses parameters, typed as openai-python's ``ResponseCreateParams``
types them. Only types, ranges and enums: the request is otherwise relayed as sent."""

from __future__ import annotations

from typing import Any, Final

from gptgate.protocols import checks as c
from gptgate.protocols import openai_checks as oc
from gptgate.protocols.openai_values import EFFORTS, SERVICE_TIERS

#: the SDK's three, plus "none", which Codex CLI sends (``model_reasoning_summary = "none"``)
SUMMARIES: Final = ("auto", "concise", "detailed", "none")

REASONING: Final[c.Spec] = {
    "effort": c.enum(*EFFORTS),
    "summary": c.enum(*SUMMARIES),
    "generate_summary": c.enum(*SUMMARIES),
}
_FORMAT_TYPE = c.enum("text", "json_object", "json_schema")
_JSON_SCHEMA = oc.json_schema(schema_required=True)


def text_format(value: Any, path: str) -> None:
    """``text.format``: a ``json_schema`` format needs its ``name`` and ``schema``."""
    fmt = oc.obj_at(value, path)
    kind = oc.kind_of(fmt, path + ".")
    _FORMAT_TYPE(kind, path + ".type")
    if kind == "json_schema":
        _JSON_SCHEMA(fmt, path + ".")


TEXT: Final[c.Spec] = {"verbosity": c.enum("low", "medium", "high"), "format": text_format}
SPEC: Final[c.Spec] = {
    "reasoning": c.nested(REASONING),
    "text": c.nested(TEXT),
    "temperature": c.ranged(0, 2),
    "top_p": c.ranged(0, 1),
    "top_logprobs": c.INT,
    "max_output_tokens": c.INT,
    "max_tool_calls": c.INT,
    "metadata": c.map_of(c.STR),
    "store": c.BOOL,
    "stream": c.BOOL,
    "background": c.BOOL,
    "parallel_tool_calls": c.BOOL,
    "previous_response_id": c.STR,
    "prompt_cache_key": c.STR,
    "prompt_cache_retention": c.enum("in_memory", "24h"),
    "safety_identifier": c.STR,
    "user": c.STR,
    "service_tier": c.enum(*SERVICE_TIERS),
    "truncation": c.enum("auto", "disabled"),
    "instructions": c.STR,
}
