"""The documented ``generationConfig`` fields, typed as google-genai's
``GenerationConfig`` types them. Gemini's JSON takes camelCase and snake_case alike."""

from __future__ import annotations

from typing import Final

from gptgate.protocols import checks as c
from gptgate.protocols.gemini import keys as k
from gptgate.types import JSONObject

GENERATION: Final[c.Spec] = {
    "temperature": c.ranged(0, 2),
    "topP": c.ranged(0, 1),
    "topK": c.NUM,
    "candidateCount": c.at_least(1),
    "maxOutputTokens": c.INT,
    "stopSequences": c.list_of(c.STR, max_items=5),
    "presencePenalty": c.NUM,
    "frequencyPenalty": c.NUM,
    "seed": c.INT,
    "responseLogprobs": c.BOOL,
    "logprobs": c.INT,
    "responseMimeType": c.STR,
    "enableEnhancedCivicAnswers": c.BOOL,
}


def check_generation(config: JSONObject, path: str) -> None:
    """Each documented field, under either spelling."""
    for key, value in config.items():
        rule = GENERATION.get(k.camel(key))
        if rule is not None and value is not None:
            rule(value, path + key)
