"""The documented Chat Completions parameters, typed as openai-python's
``CompletionCreateParams`` types them (ranges and enums as the API enforces them)."""

from __future__ import annotations

from typing import Any, Final

from gptgate.protocols import checks as c
from gptgate.protocols import fields as f
from gptgate.protocols import openai_checks as oc
from gptgate.protocols.openai_values import EFFORTS, SERVICE_TIERS

DETAILS: Final = oc.IMAGE_DETAILS
_TEXT_PART = oc.rule(("type", "text"), {"type": c.enum("text"), "text": c.STR})


def _text_parts(value: Any, path: str) -> None:
    """An array of ``{"type": "text", "text": ...}`` parts."""
    if not isinstance(value, list):
        raise f.wrong_type(path, "a string or an array of text parts", value)
    for i, part in enumerate(value):
        _TEXT_PART(oc.obj_at(part, f"{path}[{i}]"), f"{path}[{i}].")


def _prediction(value: Any, path: str) -> None:
    """``{"type": "content", "content": str | text parts}``"""
    prediction = oc.obj_at(value, path)
    oc.required(prediction, ("type", "content"), path + ".")
    c.check(prediction, {"type": c.enum("content"), "content": CONTENT}, path + ".")


def _audio(value: Any, path: str) -> None:
    """``{"format": ..., "voice": str | {"id"}}``"""
    audio = oc.obj_at(value, path)
    oc.required(audio, ("format", "voice"), path + ".")
    c.check(audio, AUDIO, path + ".")


CONTENT = c.either(c.STR, _text_parts, expected="a string or an array of text parts")
AUDIO: Final[c.Spec] = {
    "format": c.enum("wav", "aac", "mp3", "flac", "opus", "pcm16"),
    "voice": c.either(c.STR, c.nested({"id": c.STR}), expected="a string or an object"),
}
LOCATION: Final = oc.rule(
    ("type", "approximate"), {"type": c.enum("approximate"), "approximate": c.map_of(c.STR)}
)


def _user_location(value: Any, path: str) -> None:
    LOCATION(oc.obj_at(value, path), path + ".")


WEB_SEARCH: Final[c.Spec] = {
    "search_context_size": c.enum("low", "medium", "high"),
    "user_location": _user_location,
}

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
    "logit_bias": c.map_of(c.ranged(-100, 100)),
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
    "prediction": _prediction,
    "web_search_options": c.nested(WEB_SEARCH),
    "audio": _audio,
}
