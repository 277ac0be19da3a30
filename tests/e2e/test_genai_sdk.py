"""The real google-genai SDK against ``gptgate serve --demo`` (a subprocess, real sockets)."""

from __future__ import annotations

import pytest
from google import genai
from google.genai import errors, types

from gptgate.protocols.gemini.signature import MAGIC

MODEL = "gemini-2.5-flash"
WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Weather for a city",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={"location": types.Schema(type=types.Type.STRING)},
        required=["location"],
    ),
)
NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)


def make_client(base: str, api_version: str) -> genai.Client:
    options = types.HttpOptions(base_url=base, api_version=api_version, timeout=20_000)
    return genai.Client(api_key="sk-demo", http_options=options)


@pytest.fixture(params=["v1beta", "v1"])
def client(demo: str, request: pytest.FixtureRequest) -> genai.Client:
    return make_client(demo, request.param)


@pytest.fixture
def beta(demo: str) -> genai.Client:
    return make_client(demo, "v1beta")


def test_generate_content(client: genai.Client) -> None:
    config = types.GenerateContentConfig(system_instruction="be brief", temperature=0.0)
    reply = client.models.generate_content(model=MODEL, contents="Say hi", config=config)
    assert reply.text == "Hello! You said: Say hi."
    assert reply.candidates and reply.candidates[0].finish_reason == types.FinishReason.STOP
    usage = reply.usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.candidates_token_count
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count + (
        usage.thoughts_token_count or 0
    )
    assert reply.model_version == MODEL and reply.response_id


def test_generate_content_stream(client: genai.Client) -> None:
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="Stream please"))
    assert len(chunks) > 2
    assert "".join(c.text or "" for c in chunks) == "Hello! You said: Stream please."
    finishes = [
        c.candidates[0].finish_reason for c in chunks if c.candidates and c.candidates[0].finish_reason
    ]
    assert finishes == [types.FinishReason.STOP] and chunks[-1].usage_metadata is not None


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_function_call_round_trip_with_thoughts(beta: genai.Client, stream: bool) -> None:
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[WEATHER])],
        automatic_function_calling=NO_AFC,
        thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=2048),
    )
    contents: list[types.Content] = [types.Content(role="user", parts=[types.Part(text="Weather in Paris?")])]
    if stream:
        chunks = list(beta.models.generate_content_stream(model=MODEL, contents=contents, config=config))
        model_parts = [
            p
            for c in chunks
            if c.candidates and c.candidates[0].content
            for p in c.candidates[0].content.parts or ()
        ]
    else:
        reply = beta.models.generate_content(model=MODEL, contents=contents, config=config)
        assert reply.candidates and reply.candidates[0].content
        model_parts = list(reply.candidates[0].content.parts or ())
    calls = [p.function_call for p in model_parts if p.function_call]
    assert len(calls) == 1 and calls[0].name == "get_weather" and calls[0].id
    assert isinstance((calls[0].args or {}).get("location"), str)
    assert any(p.thought and p.text for p in model_parts)
    signed = [p for p in model_parts if p.thought_signature]
    assert len(signed) == 1 and signed[0].function_call and signed[0].thought_signature.startswith(MAGIC)  # type: ignore[union-attr]
    contents.append(types.Content(role="model", parts=model_parts))
    response = types.Part.from_function_response(name="get_weather", response={"result": "sunny"})
    assert response.function_response is not None
    response.function_response.id = calls[0].id
    contents.append(types.Content(role="user", parts=[response]))
    second = beta.models.generate_content(model=MODEL, contents=contents, config=config)
    assert second.text == 'Tool result received: {"result":"sunny"}'


def test_chat_stream_history_stays_valid(beta: genai.Client) -> None:
    chat = beta.chats.create(model=MODEL)
    first = "".join(c.text or "" for c in chat.send_message_stream("Hello there"))
    assert first == "Hello! You said: Hello there."
    assert len(chat.get_history(curated=True)) >= 2  # every chunk passed the SDK's validity check
    second = chat.send_message("And again")
    assert second.text == "Hello! You said: And again."


def test_models_list_get_and_count_tokens(client: genai.Client) -> None:
    names = [m.name for m in client.models.list()]
    assert names[:3] == ["models/gemini-2.5-pro", "models/gemini-2.5-flash", "models/gemini-2.5-flash-lite"]
    assert "models/gpt-5.5" in names
    model = client.models.get(model=MODEL)
    assert model.name == f"models/{MODEL}" and model.input_token_limit and model.thinking
    assert model.supported_actions == ["generateContent", "streamGenerateContent", "countTokens"]
    counted = client.models.count_tokens(model=MODEL, contents="hello world, count me")
    assert counted.total_tokens and counted.total_tokens > 3


def test_errors_reach_the_sdk_as_api_errors(beta: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as info:
        beta.models.generate_content(model="no-such-model", contents="x")
    assert info.value.code == 404 and info.value.status == "NOT_FOUND"
    config = types.GenerateContentConfig(candidate_count=2)
    with pytest.raises(errors.ClientError) as info:
        beta.models.generate_content(model=MODEL, contents="x", config=config)
    assert info.value.code == 400 and "candidateCount" in (info.value.message or "")


@pytest.mark.parametrize(
    ("directive", "error", "code"),
    [("[[sim:failed]]", errors.ClientError, 400), ("[[sim:cut after=6]]", errors.ServerError, 502)],
)
def test_failure_mid_stream_raises_in_the_sdk(
    beta: genai.Client, directive: str, error: type[errors.APIError], code: int
) -> None:
    seen: list[str] = []
    with pytest.raises(error) as info:
        # extend keeps the chunks that arrived before the error was raised
        seen.extend(
            c.text or ""
            for c in beta.models.generate_content_stream(model=MODEL, contents=f"Hello {directive}")
        )
    assert info.value.code == code and "".join(seen).startswith("Hel")
