"""The documented fields of a ``GenerateContentRequest`` outside ``contents`` and ``tools``,
typed as google-genai's ``types.py`` types them (``GenerationConfig``, ``ThinkingConfig``,
``SafetySetting``, ``ToolConfig`` ...). Gemini's JSON takes camelCase and snake_case alike.

What the decoder reads (thinking, structured output, tool config) is also checked here, so a
wrong type or enum is the same 400 whether or not the gateway uses the field.
"""

from __future__ import annotations

from typing import Final

from gptgate.protocols.gemini import keys as k
from gptgate.protocols.gemini import rules as r
from gptgate.types import JSONObject

MODALITIES: Final = ("MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO", "VIDEO")
MEDIA_RESOLUTIONS: Final = (
    "MEDIA_RESOLUTION_UNSPECIFIED",
    "MEDIA_RESOLUTION_LOW",
    "MEDIA_RESOLUTION_MEDIUM",
    "MEDIA_RESOLUTION_HIGH",
    "MEDIA_RESOLUTION_ULTRA_HIGH",
)
THINKING_LEVELS: Final = ("THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH", "XHIGH")
CALLING_MODES: Final = ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED")
HARM_CATEGORIES: Final = (
    "HARM_CATEGORY_UNSPECIFIED",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
    "HARM_CATEGORY_JAILBREAK",
    "HARM_CATEGORY_IMAGE_HATE",
    "HARM_CATEGORY_IMAGE_DANGEROUS_CONTENT",
    "HARM_CATEGORY_IMAGE_HARASSMENT",
    "HARM_CATEGORY_IMAGE_SEXUALLY_EXPLICIT",
)
HARM_THRESHOLDS: Final = (
    "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
    "BLOCK_LOW_AND_ABOVE",
    "BLOCK_MEDIUM_AND_ABOVE",
    "BLOCK_ONLY_HIGH",
    "BLOCK_NONE",
    "OFF",
)

#: what ``responseSchema`` may describe (``text/x.enum``: one of the schema's enum strings)
SCHEMA_MIME_TYPES: Final = ("application/json", "text/x.enum")
THINKING: Final[r.Spec] = {
    "includeThoughts": r.BOOL,
    "thinkingBudget": r.int64,  # int32, which proto JSON may quote as well
    "thinkingLevel": r.enum(*THINKING_LEVELS),
}
_VOICE: Final = r.message({"prebuiltVoiceConfig": r.message({"voiceName": r.STR})})
SPEECH: Final[r.Spec] = {
    "voiceConfig": _VOICE,
    "languageCode": r.STR,
    "multiSpeakerVoiceConfig": r.message(
        {"speakerVoiceConfigs": r.list_of(r.message({"speaker": r.STR, "voiceConfig": _VOICE}))}
    ),
}
GENERATION: Final = r.fields(
    {
        "temperature": r.ranged(0, 2),
        "topP": r.ranged(0, 1),
        "topK": r.NUM,
        "candidateCount": r.at_least(1),
        "maxOutputTokens": r.INT,
        "stopSequences": r.list_of(r.STR, max_items=5),
        "presencePenalty": r.NUM,
        "frequencyPenalty": r.NUM,
        "seed": r.INT,
        "responseLogprobs": r.BOOL,
        "logprobs": r.INT,
        "responseMimeType": r.STR,
        "responseSchema": r.OBJ,  # each keyword is checked as it is converted (schema.py)
        "enableEnhancedCivicAnswers": r.BOOL,
        "enableAffectiveDialog": r.BOOL,
        "audioTimestamp": r.BOOL,
        "thinkingConfig": r.message(THINKING),
        "responseModalities": r.list_of(r.enum(*MODALITIES)),
        "mediaResolution": r.enum(*MEDIA_RESOLUTIONS),
        "speechConfig": r.message(SPEECH),
        "imageConfig": r.message({"aspectRatio": r.STR, "imageSize": r.STR}),
        "routingConfig": r.OBJ,
        "modelSelectionConfig": r.OBJ,
    }
)
SAFETY_SETTING: Final = r.message(
    {
        "category": r.enum(*HARM_CATEGORIES),
        "threshold": r.enum(*HARM_THRESHOLDS),
        "method": r.enum("HARM_BLOCK_METHOD_UNSPECIFIED", "SEVERITY", "PROBABILITY"),
    },
    "category",
    "threshold",
)
FUNCTION_CALLING: Final[r.Spec] = {
    "mode": r.enum(*CALLING_MODES),
    "allowedFunctionNames": r.list_of(r.STR),
    "streamFunctionCallArguments": r.BOOL,
}
TOOL_CONFIG: Final[r.Spec] = {
    "functionCallingConfig": r.message(FUNCTION_CALLING),
    "retrievalConfig": r.message(
        {
            "latLng": r.message({"latitude": r.ranged(-90, 90), "longitude": r.ranged(-180, 180)}),
            "languageCode": r.STR,
        }
    ),
    "includeServerSideToolInvocations": r.BOOL,
}
#: Top-level fields checked here; ``contents``, ``systemInstruction``, ``tools`` and
#: ``generationConfig`` are checked as the decoder reads them.
REQUEST: Final = r.fields(
    {
        "model": r.STR,
        "safetySettings": r.list_of(SAFETY_SETTING),
        "toolConfig": r.message(TOOL_CONFIG),
        "cachedContent": r.STR,
        "labels": r.map_of(r.STR),
        "serviceTier": r.STR,
        "store": r.BOOL,
    }
)


def check_generation(config: JSONObject, path: str) -> None:
    """Each documented ``generationConfig`` field, under either spelling."""
    r.check_message(config, GENERATION, path)
    key, thinking = k.pick(config, "thinkingConfig")
    if thinking is not None:
        _one_thinking_knob(thinking, f"{path}{key}.")
    _schema_with_its_mime_type(config, path)


def _schema_with_its_mime_type(config: JSONObject, path: str) -> None:
    """google-genai's ``GenerationConfig``: ``responseJsonSchema`` requires ``responseSchema``
    omitted and ``responseMimeType`` set; ``responseSchema`` requires a compatible mime type."""
    schema_key, schema = k.pick(config, "responseSchema")
    json_key, json_schema = k.pick(config, "responseJsonSchema")
    if json_schema is None and config.get("_responseJsonSchema") is not None:
        json_key, json_schema = "_responseJsonSchema", config["_responseJsonSchema"]
    if schema is not None and json_schema is not None:
        raise r.invalid(path + json_key, f"'{schema_key}' must be omitted when '{json_key}' is set")
    key, given = (schema_key, schema) if schema is not None else (json_key, json_schema)
    if given is None:
        return
    mime = k.pick(config, "responseMimeType")[1]
    compatible = SCHEMA_MIME_TYPES if schema is not None else ("application/json",)
    if mime not in compatible:
        raise r.invalid(
            path + key,
            f"it requires responseMimeType {' or '.join(compatible)}, but responseMimeType is "
            + ("not set" if mime is None else f"'{mime}'"),
        )


def _one_thinking_knob(thinking: JSONObject, path: str) -> None:
    """Gemini 3 documents that ``thinkingLevel`` and the older ``thinkingBudget`` cannot be
    set together (a 400)."""
    key, level = k.pick(thinking, "thinkingLevel")
    if level is not None and k.pick(thinking, "thinkingBudget")[1] is not None:
        raise r.invalid(path + key, "thinkingLevel and thinkingBudget cannot be set together; use one")
