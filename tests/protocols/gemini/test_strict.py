"""Issue 13 for the Gemini door: every documented request field is checked as google-genai
types it (``types.py``), a wrong one is a 400 in Google's envelope naming the field as the client
spelled it, and unknown top-level fields still ride along (DESIGN rule 5)."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest

from gptgate.protocols.gemini import signature
from gptgate.protocols.gemini.decode import decode
from tests.support import Served, client_requests

GEN = "/v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
COUNT = "/v1/models/gemini-2.5-flash:countTokens"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAACAAAB4iG8MwAAAABJRU5ErkJggg=="
HI = {"role": "user", "parts": [{"text": "hi"}]}


def ask(**extra: Any) -> dict[str, Any]:
    return {"contents": [HI], **extra}


def with_parts(*parts: Any, role: str = "user") -> dict[str, Any]:
    return {"contents": [{"role": role, "parts": list(parts)}]}


def declare(**decl: Any) -> dict[str, Any]:
    return ask(tools=[{"functionDeclarations": [decl]}])


def config(**fields: Any) -> dict[str, Any]:
    return ask(generationConfig=fields)


def thinking(**fields: Any) -> dict[str, Any]:
    return config(thinkingConfig=fields)


def calling(**fields: Any) -> dict[str, Any]:
    return ask(toolConfig={"functionCallingConfig": fields})


def typed(path: str, expected: str, got: str) -> tuple[str, str]:
    return f"Invalid type for '{path}': expected {expected}, but got {got}.", "INVALID_REQUEST_ERROR"


def value(path: str, detail: str) -> tuple[str, str]:
    return f"Invalid value at '{path}': {detail}.", "INVALID_VALUE"


def missing(path: str) -> tuple[str, str]:
    return f"Missing required parameter: '{path}'.", "MISSING_REQUIRED_PARAMETER"


P0 = "contents[0].parts[0]"
DECL = "tools[0].functionDeclarations[0]"
FCC = "toolConfig.functionCallingConfig"
TC = "generationConfig.thinkingConfig"
TOO_LONG = "f" * 129
BAD_NAME = (
    "Must start with a letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, "
    "dots, colons and dashes, with a maximum length of 128"
)
ONE_OF = "a part holds exactly one of text, inlineData, fileData, functionCall, functionResponse."

BAD: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    # contents[] and parts
    ("no-parts", {"contents": [{"role": "user"}]}, missing("contents[0].parts")),
    (
        "empty-parts",
        {"contents": [{"role": "user", "parts": []}]},
        value("contents[0].parts", "contents.parts must not be empty"),
    ),
    (
        "parts-object",
        {"contents": [{"parts": {"text": "x"}}]},
        typed("contents[0].parts", "an array", "an object"),
    ),
    (
        "role-number",
        {"contents": [{"role": 1, "parts": [{"text": "x"}]}]},
        typed("contents[0].role", "a string", "an integer"),
    ),
    (
        "two-data-fields",
        with_parts({"text": "a", "inlineData": {"mimeType": "image/png", "data": PNG}}),
        (
            f"Invalid part at '{P0}': several data fields (text, inlineData); {ONE_OF}",
            "INVALID_REQUEST_ERROR",
        ),
    ),
    (
        "no-data-field",
        with_parts({"thought": True}),
        (f"Invalid part at '{P0}': no data field; {ONE_OF}", "INVALID_REQUEST_ERROR"),
    ),
    # every part kind
    (
        "inline-data-snake-mime-type",
        {"contents": [{"parts": [{"text": "look"}, {"inline_data": {"mime_type": 5, "data": PNG}}]}]},
        typed("contents[0].parts[1].inline_data.mime_type", "a string", "an integer"),
    ),
    (
        "inline-data-not-base64",
        with_parts({"inlineData": {"mimeType": "image/png", "data": "not base64!"}}),
        value(f"{P0}.inlineData.data", "not valid base64 data"),
    ),
    (
        "inline-data-base64-bad-length",
        with_parts({"inlineData": {"mimeType": "image/png", "data": "abcde"}}),
        value(f"{P0}.inlineData.data", "not valid base64 data"),
    ),
    (
        "inline-data-no-data",
        with_parts({"inlineData": {"mimeType": "image/png"}}),
        missing(f"{P0}.inlineData.data"),
    ),
    (
        "file-data-no-uri",
        with_parts({"fileData": {"mimeType": "image/png"}}),
        missing(f"{P0}.fileData.fileUri"),
    ),
    (
        "file-data-mime-type",
        with_parts({"fileData": {"mimeType": ["image/png"], "fileUri": "https://x.test/a.png"}}),
        typed(f"{P0}.fileData.mimeType", "a string", "an array"),
    ),
    (
        "function-call-args-array",
        with_parts({"functionCall": {"name": "f", "args": [1]}}, role="model"),
        typed(f"{P0}.functionCall.args", "an object", "an array"),
    ),
    (
        "function-call-no-name",
        with_parts({"functionCall": {"args": {}}}, role="model"),
        missing(f"{P0}.functionCall.name"),
    ),
    (
        "function-call-id-number",
        with_parts({"functionCall": {"name": "f", "id": 7}}, role="model"),
        typed(f"{P0}.functionCall.id", "a string", "an integer"),
    ),
    (
        "function-response-string",
        with_parts({"functionResponse": {"name": "f", "id": "c1", "response": "ok"}}),
        typed(f"{P0}.functionResponse.response", "an object", "a string"),
    ),
    (
        "function-response-scheduling",
        with_parts({"functionResponse": {"name": "f", "id": "c1", "response": {}, "scheduling": "LATER"}}),
        value(
            f"{P0}.functionResponse.scheduling",
            "'LATER' is not one of SCHEDULING_UNSPECIFIED, SILENT, WHEN_IDLE, INTERRUPT",
        ),
    ),
    (
        "thought-string",
        with_parts({"text": "x", "thought": "yes"}),
        typed(f"{P0}.thought", "a boolean", "a string"),
    ),
    (
        "thought-signature-not-base64",
        with_parts({"text": "x", "thoughtSignature": "***"}, role="model"),
        value(f"{P0}.thoughtSignature", "not valid base64 data"),
    ),
    (
        "thought-signature-snake-number",
        with_parts({"text": "x", "thought_signature": 1}, role="model"),
        typed(f"{P0}.thought_signature", "a string", "an integer"),
    ),
    (
        "executable-code-language",
        with_parts({"executableCode": {"code": "1", "language": "RUBY"}}, role="model"),
        value(f"{P0}.executableCode.language", "'RUBY' is not one of LANGUAGE_UNSPECIFIED, PYTHON"),
    ),
    (
        "code-result-outcome",
        with_parts({"codeExecutionResult": {"outcome": "FINE"}}),
        value(
            f"{P0}.codeExecutionResult.outcome",
            "'FINE' is not one of OUTCOME_UNSPECIFIED, OUTCOME_OK, OUTCOME_FAILED, OUTCOME_DEADLINE_EXCEEDED",
        ),
    ),
    (
        "executable-code-unsupported",
        with_parts({"executableCode": {"code": "print(1)", "language": "PYTHON"}}, role="model"),
        (f"'{P0}.executableCode': code execution is not supported by the upstream.", "UNSUPPORTED_PARAMETER"),
    ),
    (
        "video-metadata-fps",
        with_parts({"fileData": {"fileUri": "https://x.test/v.mp4"}, "videoMetadata": {"fps": "x"}}),
        typed(f"{P0}.videoMetadata.fps", "a number", "a string"),
    ),
    # systemInstruction
    ("system-string", ask(systemInstruction="be brief"), typed("systemInstruction", "an object", "a string")),
    (
        "system-image",
        ask(systemInstruction={"parts": [{"inlineData": {"mimeType": "image/png", "data": PNG}}]}),
        (
            "'systemInstruction.parts[0]': only text parts are accepted in a system instruction.",
            "UNSUPPORTED_PARAMETER",
        ),
    ),
    (
        "system-text-number",
        ask(system_instruction={"parts": [{"text": 1}]}),
        typed("system_instruction.parts[0].text", "a string", "an integer"),
    ),
    # tools[]
    (
        "declaration-name-digit",
        declare(name="1f"),
        value(f"{DECL}.name", f"invalid function name '1f'. {BAD_NAME}"),
    ),
    (
        "declaration-name-space",
        declare(name="get weather"),
        value(f"{DECL}.name", f"invalid function name 'get weather'. {BAD_NAME}"),
    ),
    (
        "declaration-name-129",
        declare(name=TOO_LONG),
        value(f"{DECL}.name", f"invalid function name '{TOO_LONG}'. {BAD_NAME}"),
    ),
    ("declaration-no-name", declare(description="d"), missing(f"{DECL}.name")),
    (
        "declaration-description",
        declare(name="f", description=1),
        typed(f"{DECL}.description", "a string", "an integer"),
    ),
    (
        "declaration-both-schemas",
        declare(name="f", parameters={"type": "OBJECT"}, parametersJsonSchema={"type": "object"}),
        value(
            f"{DECL}.parametersJsonSchema",
            "'parameters' and 'parametersJsonSchema' cannot be set together; use one",
        ),
    ),
    (
        "declaration-both-response-schemas",
        declare(name="f", response={"type": "STRING"}, responseJsonSchema={"type": "string"}),
        value(
            f"{DECL}.responseJsonSchema",
            "'response' and 'responseJsonSchema' cannot be set together; use one",
        ),
    ),
    (
        "declaration-required-string",
        declare(name="f", parameters={"type": "OBJECT", "required": "a"}),
        typed(f"{DECL}.parameters.required", "an array", "a string"),
    ),
    (
        "declaration-behavior",
        declare(name="f", behavior="EVENTUALLY"),
        value(f"{DECL}.behavior", "'EVENTUALLY' is not one of UNSPECIFIED, BLOCKING, NON_BLOCKING"),
    ),
    (
        "declarations-object",
        ask(tools=[{"functionDeclarations": {"name": "f"}}]),
        typed("tools[0].functionDeclarations", "an array", "an object"),
    ),
    (
        "google-search-string",
        ask(tools=[{"googleSearch": "yes"}]),
        typed("tools[0].googleSearch", "an object", "a string"),
    ),
    (
        "url-context-unsupported",
        ask(tools=[{"url_context": {}}]),
        ("'tools[0].url_context': this tool is not supported by the upstream.", "UNSUPPORTED_PARAMETER"),
    ),
    # toolConfig
    (
        "calling-mode",
        calling(mode="SOMETIMES"),
        value(f"{FCC}.mode", "'SOMETIMES' is not one of MODE_UNSPECIFIED, AUTO, ANY, NONE, VALIDATED"),
    ),
    (
        "allowed-names-number",
        calling(mode="ANY", allowedFunctionNames=[1]),
        typed(f"{FCC}.allowedFunctionNames[0]", "a string", "an integer"),
    ),
    (
        "allowed-names-string",
        calling(mode="ANY", allowedFunctionNames="f"),
        typed(f"{FCC}.allowedFunctionNames", "an array", "a string"),
    ),
    # generationConfig
    (
        "temperature-2.5",
        config(temperature=2.5),
        value("generationConfig.temperature", "2.5 is out of range; the supported range is 0 to 2"),
    ),
    (
        "temperature-string",
        config(temperature="1"),
        typed("generationConfig.temperature", "a number", "a string"),
    ),
    (
        "top-p-negative",
        config(topP=-0.1),
        value("generationConfig.topP", "-0.1 is out of range; the supported range is 0 to 1"),
    ),
    ("top-k-bool", config(topK=True), typed("generationConfig.topK", "a number", "a boolean")),
    (
        "candidate-count-0",
        config(candidateCount=0),
        value("generationConfig.candidateCount", "0 is out of range; it must be at least 1"),
    ),
    (
        "max-output-tokens-snake",
        ask(generation_config={"max_output_tokens": 1.5}),
        typed("generation_config.max_output_tokens", "an integer", "a number"),
    ),
    (
        "stop-sequences-6",
        config(stopSequences=["a", "b", "c", "d", "e", "f"]),
        (
            "Invalid value for 'generationConfig.stopSequences': expected at most 5 items, but got 6.",
            "INVALID_VALUE",
        ),
    ),
    (
        "stop-sequences-number",
        config(stopSequences=[1]),
        typed("generationConfig.stopSequences[0]", "a string", "an integer"),
    ),
    (
        "presence-penalty-string",
        config(presencePenalty="0"),
        typed("generationConfig.presencePenalty", "a number", "a string"),
    ),
    ("seed-float", config(seed=1.5), typed("generationConfig.seed", "an integer", "a number")),
    (
        "response-logprobs",
        config(responseLogprobs="yes"),
        typed("generationConfig.responseLogprobs", "a boolean", "a string"),
    ),
    (
        "response-mime-type",
        config(responseMimeType=1),
        typed("generationConfig.responseMimeType", "a string", "an integer"),
    ),
    (
        "response-schema-enum",
        config(responseMimeType="application/json", responseSchema={"type": "STRING", "enum": [1]}),
        typed("generationConfig.responseSchema.enum[0]", "a string", "an integer"),
    ),
    (
        "response-schema-without-mime-type",
        config(responseSchema={"type": "STRING"}),
        value(
            "generationConfig.responseSchema",
            "it requires responseMimeType application/json or text/x.enum, but responseMimeType is not set",
        ),
    ),
    (
        "response-json-schema-text-plain",
        config(responseMimeType="text/plain", response_json_schema={"type": "string"}),
        value(
            "generationConfig.response_json_schema",
            "it requires responseMimeType application/json, but responseMimeType is 'text/plain'",
        ),
    ),
    (
        "response-schema-and-json-schema",
        config(responseMimeType="application/json", responseSchema={"type": "STRING"}, responseJsonSchema={}),
        value(
            "generationConfig.responseJsonSchema",
            "'responseSchema' must be omitted when 'responseJsonSchema' is set",
        ),
    ),
    (
        "response-modalities",
        config(responseModalities=["SMELL"]),
        value(
            "generationConfig.responseModalities[0]",
            "'SMELL' is not one of MODALITY_UNSPECIFIED, TEXT, IMAGE, AUDIO, VIDEO",
        ),
    ),
    (
        "media-resolution",
        config(mediaResolution="MEDIA_RESOLUTION_MAX"),
        value(
            "generationConfig.mediaResolution",
            "'MEDIA_RESOLUTION_MAX' is not one of MEDIA_RESOLUTION_UNSPECIFIED, MEDIA_RESOLUTION_LOW, "
            "MEDIA_RESOLUTION_MEDIUM, MEDIA_RESOLUTION_HIGH, MEDIA_RESOLUTION_ULTRA_HIGH",
        ),
    ),
    (
        "speech-voice-name",
        config(speechConfig={"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": 3}}}),
        typed(
            "generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName",
            "a string",
            "an integer",
        ),
    ),
    (
        "include-thoughts-string",
        thinking(includeThoughts="true"),
        typed(f"{TC}.includeThoughts", "a boolean", "a string"),
    ),
    (
        "thinking-level-max",
        thinking(thinkingLevel="max"),
        value(
            f"{TC}.thinkingLevel",
            "'max' is not one of THINKING_LEVEL_UNSPECIFIED, MINIMAL, LOW, MEDIUM, HIGH, XHIGH",
        ),
    ),
    (
        "thinking-budget-float",
        thinking(thinkingBudget=1.5),
        typed(f"{TC}.thinkingBudget", "an integer", "a number"),
    ),
    (
        "thinking-level-and-budget",
        thinking(thinkingLevel="high", thinkingBudget=0),
        value(f"{TC}.thinkingLevel", "thinkingLevel and thinkingBudget cannot be set together; use one"),
    ),
    # safetySettings, cachedContent, labels
    (
        "safety-category",
        ask(safetySettings=[{"category": "HARM_CATEGORY_RUDE", "threshold": "BLOCK_NONE"}]),
        value(
            "safetySettings[0].category",
            "'HARM_CATEGORY_RUDE' is not one of HARM_CATEGORY_UNSPECIFIED, HARM_CATEGORY_HARASSMENT, "
            "HARM_CATEGORY_HATE_SPEECH, HARM_CATEGORY_SEXUALLY_EXPLICIT, HARM_CATEGORY_DANGEROUS_CONTENT, "
            "HARM_CATEGORY_CIVIC_INTEGRITY, HARM_CATEGORY_JAILBREAK, HARM_CATEGORY_IMAGE_HATE, "
            "HARM_CATEGORY_IMAGE_DANGEROUS_CONTENT, HARM_CATEGORY_IMAGE_HARASSMENT, "
            "HARM_CATEGORY_IMAGE_SEXUALLY_EXPLICIT",
        ),
    ),
    (
        "safety-threshold",
        ask(safety_settings=[{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_SOME"}]),
        value(
            "safety_settings[0].threshold",
            "'BLOCK_SOME' is not one of HARM_BLOCK_THRESHOLD_UNSPECIFIED, BLOCK_LOW_AND_ABOVE, "
            "BLOCK_MEDIUM_AND_ABOVE, BLOCK_ONLY_HIGH, BLOCK_NONE, OFF",
        ),
    ),
    (
        "safety-no-threshold",
        ask(safetySettings=[{"category": "HARM_CATEGORY_HATE_SPEECH"}]),
        missing("safetySettings[0].threshold"),
    ),
    (
        "safety-object",
        ask(safetySettings={"category": "x"}),
        typed("safetySettings", "an array", "an object"),
    ),
    ("cached-content-number", ask(cachedContent=5), typed("cachedContent", "a string", "an integer")),
    ("labels-value-number", ask(labels={"team": 1}), typed("labels.team", "a string", "an integer")),
]


async def post(base: str, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            base + path,
            data=orjson.dumps(body),
            headers={"content-type": "application/json", "x-goog-api-key": "k"},
        ) as resp,
    ):
        return resp.status, await resp.read()


def google_error(message: str, reason: str) -> dict[str, Any]:
    return {
        "error": {
            "code": 400,
            "message": message,
            "status": "INVALID_ARGUMENT",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "gptgate"}
            ],
        }
    }


@pytest.mark.parametrize(("body", "error"), [(b, e) for _, b, e in BAD], ids=[n for n, _, _ in BAD])
async def test_a_wrong_documented_field_is_a_400_naming_it(
    gateway: Served, body: dict[str, Any], error: tuple[str, str]
) -> None:
    status, got = await post(gateway.base_url, GEN, body)
    assert (status, orjson.loads(got)) == (400, google_error(*error))


async def test_stream_and_count_tokens_refuse_alike(gateway: Served) -> None:
    """The same checks under ``:streamGenerateContent`` (a 400 before any stream) and
    ``:countTokens`` under ``/v1`` (bare and wrapped)."""
    body = config(temperature=3)
    expected = google_error(
        *value("generationConfig.temperature", "3 is out of range; the supported range is 0 to 2")
    )
    assert await post(gateway.base_url, STREAM, body) == (400, orjson.dumps(expected))
    assert await post(gateway.base_url, COUNT, body) == (400, orjson.dumps(expected))
    wrapped = {"generateContentRequest": {"model": "models/gemini-2.5-flash", **with_parts({"thought": 1})}}
    status, got = await post(gateway.base_url, COUNT, wrapped)
    assert (status, orjson.loads(got)) == (
        400,
        google_error(*typed(f"{P0}.thought", "a boolean", "an integer")),
    )


# -- what passes, and what it decodes to
EVERYTHING: dict[str, Any] = {
    "contents": [
        {
            "role": "user",
            "parts": [
                {"text": "look"},
                {"inlineData": {"mimeType": "image/png", "data": PNG, "displayName": "dot.png"}},
                {
                    "fileData": {
                        "mimeType": "application/pdf",
                        "fileUri": "https://x.test/a.pdf",
                        "displayName": "a",
                    }
                },
                {
                    "fileData": {"fileUri": "https://x.test/v.mp4"},
                    "videoMetadata": {"startOffset": "1s", "fps": 2},
                },
                {
                    "text": "hi",
                    "mediaResolution": {"level": "MEDIA_RESOLUTION_LOW"},
                    "partMetadata": {"k": 1},
                },
            ],
        },
        {
            "role": "model",
            "parts": [
                {"text": "thinking...", "thought": True},
                {
                    "functionCall": {"id": "c1", "name": "get_weather", "args": {"city": "Paris"}},
                    "thoughtSignature": "Zm9v",
                },
            ],
        },
        {
            "role": "user",
            "parts": [
                {
                    "functionResponse": {
                        "id": "c1",
                        "name": "get_weather",
                        "response": {"result": "sunny"},
                        "willContinue": False,
                        "scheduling": "WHEN_IDLE",
                    }
                }
            ],
        },
    ],
    "systemInstruction": {"role": "user", "parts": [{"text": "be brief"}]},
    "tools": [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "behavior": "BLOCKING",
                    "parameters": {
                        "type": "OBJECT",
                        "properties": {
                            "city": {"type": "STRING", "description": "name", "enum": ["Paris", "Rome"]}
                        },
                        "required": ["city"],
                        "propertyOrdering": ["city"],
                    },
                },
                {"name": "_mcp.server:tool-1", "parametersJsonSchema": {"type": "object"}},
            ]
        },
        {"googleSearch": {}},
    ],
    "toolConfig": {
        "functionCallingConfig": {"mode": "any", "allowedFunctionNames": ["get_weather"]},
        "retrievalConfig": {"latLng": {"latitude": 48.8, "longitude": 2.3}, "languageCode": "fr"},
    },
    "generationConfig": {
        "temperature": 2,
        "topP": 0.95,
        "topK": 40,
        "candidateCount": 1,
        "maxOutputTokens": 1024,
        "stopSequences": ["a", "b", "c", "d", "e"],
        "presencePenalty": -1.5,
        "frequencyPenalty": 0.5,
        "seed": 7,
        "responseLogprobs": False,
        "logprobs": 2,
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object"},
        "responseModalities": ["text"],
        "mediaResolution": "MEDIA_RESOLUTION_HIGH",
        "thinkingConfig": {"includeThoughts": True, "thinkingLevel": "low"},
    },
    "safetySettings": [
        {"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"},
        {"category": "harm_category_harassment", "threshold": "off", "method": "SEVERITY"},
    ],
    "cachedContent": "cachedContents/abc",
    "labels": {"team": "a"},
    "someFutureField": {"x": [None]},
}


def test_every_documented_field_well_formed_is_decoded() -> None:
    decoded = decode(EVERYTHING, "gemini-2.5-flash")
    req = decoded.request
    assert [item["type"] for item in req.input] == [
        "message",
        "message",
        "function_call",
        "function_call_output",
    ]
    assert req.input[1]["content"][1:4] == [
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
        {"type": "input_file", "file_url": "https://x.test/a.pdf"},
        {"type": "input_file", "file_url": "https://x.test/v.mp4"},
    ]
    assert req.input[2] == {
        "type": "function_call",
        "call_id": "c1",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }
    assert [t.get("name", t["type"]) for t in req.tools] == [
        "get_weather",
        "_mcp.server:tool-1",
        "web_search",
    ]
    assert req.tools[0]["parameters"]["properties"]["city"] == {
        "type": "string",
        "description": "name",
        "enum": ["Paris", "Rome"],
    }
    assert req.tool_choice == {"type": "function", "name": "get_weather"}
    assert (req.reasoning, decoded.include_thoughts) == ({"effort": "low"}, True)
    assert req.text == {
        "format": {"type": "json_schema", "name": "response", "schema": {"type": "object"}, "strict": False}
    }
    assert req.ignored == [
        "safetySettings",
        "cachedContent",
        "labels",
        *(
            f"generationConfig.{name}"
            for name in (
                "temperature",
                "topP",
                "topK",
                "candidateCount",
                "maxOutputTokens",
                "stopSequences",
                "presencePenalty",
                "frequencyPenalty",
                "seed",
                "responseLogprobs",
                "logprobs",
                "mediaResolution",
            )
        ),
        "thoughtSignature",
    ]
    assert req.extras == {"someFutureField": {"x": [None]}}  # unknown: rides along, not refused


def test_snake_case_spellings_decode_the_same() -> None:
    snake = {
        "contents": [
            {
                "role": "user",
                "parts": [{"inline_data": {"mime_type": "image/png", "data": PNG, "display_name": "d"}}],
            },
            {
                "role": "model",
                "parts": [{"function_call": {"name": "f", "args": {}}, "thought_signature": "Zm9v"}],
            },
            {
                "role": "user",
                "parts": [{"function_response": {"name": "f", "response": {}, "will_continue": True}}],
            },
        ],
        "system_instruction": {"parts": [{"text": "s"}]},
        "tools": [{"function_declarations": [{"name": "f", "parameters_json_schema": {"type": "object"}}]}],
        "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["f"]}},
        "generation_config": {
            "thinking_config": {"thinking_budget": "1024", "include_thoughts": False},
            "response_modalities": ["TEXT"],
            "stop_sequences": ["x"],
        },
        "safety_settings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_ONLY_HIGH"}],
        "cached_content": "cachedContents/x",
    }
    req = decode(snake, "m").request
    assert [item["type"] for item in req.input] == [
        "message",
        "message",
        "function_call",
        "function_call_output",
    ]
    assert req.input[1]["content"] == [{"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"}]
    assert req.tool_choice == {"type": "function", "name": "f"} and req.reasoning == {"effort": "low"}
    assert req.ignored == [
        "safetySettings",
        "cachedContent",
        "generationConfig.stop_sequences",
        "thoughtSignature",
    ]
    assert req.extras == {}


@pytest.mark.parametrize(
    ("part", "content"),
    [
        # URL-safe alphabet without padding (how proto JSON may write bytes) is valid base64
        (
            {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0-_w"}},
            {
                "type": "input_file",
                "file_data": "data:application/pdf;base64,JVBERi0+/w",
                "filename": "document.pdf",
            },
        ),
        (
            {"inlineData": {"mimeType": "image/png", "data": ""}},
            {"type": "input_image", "image_url": "data:image/png;base64,"},
        ),
        ({"text": "x", "thought": False, "videoMetadata": None}, {"type": "input_text", "text": "x"}),
    ],
)
def test_edge_values_that_the_api_accepts(part: dict[str, Any], content: dict[str, Any]) -> None:
    req = decode(with_parts(part), "m").request
    assert req.input == [{"type": "message", "role": "user", "content": [content]}]


def test_our_signature_and_a_bare_signature_part_pass() -> None:
    ours = signature.encode("gAAAAours")
    body = {"contents": [HI, {"role": "model", "parts": [{"text": "a"}, {"thoughtSignature": ours}]}]}
    req = decode(body, "m").request
    assert req.input[-1] == {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAours"}


def test_every_captured_genai_request_still_decodes() -> None:
    """Each body google-genai 3.4.0 sent (tests/fixtures/clients/sdk_genai.jsonl) decodes with
    nothing refused, nothing left in extras."""
    posts = [r for r in client_requests("sdk_genai") if r["method"] == "POST"]
    assert len(posts) == 4
    for record in posts:
        model = record["path"].split("/models/")[1].split(":")[0]
        req = decode(record["body"], model).request
        assert req.extras == {} and req.input


async def test_every_captured_genai_request_is_served(gateway: Served) -> None:
    for record in client_requests("sdk_genai"):
        if record["method"] == "POST":
            status, got = await post(gateway.base_url, record["path"], record["body"])
            assert status == 200, got
