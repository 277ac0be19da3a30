"""The documented Chat Completions parameters, typed as openai-python's
``CompletionCreateParams`` types them (ranges and enums as the API enforces them)."""

from __future__ import annotations

from typing import Final

from gptgate.protocols import checks as c
from gptgate.protocols.openai_values import EFFORTS, SERVICE_TIERS

DETAILS: Final = ("auto", "low", "high", "original")

SPEC: Final[c.Spec] = {
    "frequency_penalty": c.ranged(-2, 2),
    "presence_penalty": c.ranged(-2, 2),
    "temperature": c.ranged(0, 2),
    "top_p": c.ranged(0, 1),
    "max_tokens": c.INT,
    "max_completion_tokens": c.INT,
    "seed": c.INT,
    "n": c.at_least(1),
    "top_logprobs": c.INT,
    "logprobs": c.BOOL,
    "logit_bias": c.map_of(c.NUM),
    "metadata": c.map_of(c.STR),
    "store": c.BOOL,
    "stream": c.BOOL,
    "stream_options": c.nested({"include_usage": c.BOOL, "include_obfuscation": c.BOOL}),
    "parallel_tool_calls": c.BOOL,
    "user": c.STR,
    "safety_identifier": c.STR,
    "prompt_cache_key": c.STR,
    "prompt_cache_retention": c.enum("in_memory", "24h"),
    "reasoning_effort": c.enum(*EFFORTS),
    "verbosity": c.enum("low", "medium", "high"),
    "service_tier": c.enum(*SERVICE_TIERS),
    "stop": c.either(c.STR, c.list_of(c.STR, max_items=4), expected="a string or an array of strings"),
    "modalities": c.list_of(c.enum("text", "audio", "image")),
    "prediction": c.OBJ,
    "web_search_options": c.OBJ,
    "audio": c.OBJ,
}
