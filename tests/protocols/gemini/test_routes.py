"""The Gemini door over real sockets against the simulator: envelopes, streams, ids, models."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest
import yarl

from gptgate.protocols.gemini import signature
from gptgate.simulator.server import RunningSimulator
from tests.support import Served, sse_data, start_gateway

GEN = "/v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
GOOG = {"x-goog-api-key": "k", "x-goog-api-client": "google-genai-sdk/3.4.0"}
WEATHER_TOOL = {
    "functionDeclarations": [
        {
            "name": "get_weather",
            "parameters": {
                "type": "OBJECT",
                "properties": {"location": {"type": "STRING"}},
                "required": ["location"],
            },
        }
    ]
}


def ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


async def call(
    base: str,
    path: str,
    data: bytes | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> tuple[int, dict[str, str], bytes]:
    body = data if isinstance(data, bytes) or data is None else orjson.dumps(data)
    hdrs = {"content-type": "application/json", **(headers or {})}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, base + path, data=body, headers=hdrs) as resp,
    ):
        return resp.status, dict(resp.headers), await resp.read()


def envelope(body: bytes) -> dict[str, Any]:
    data = orjson.loads(body)
    assert set(data) == {"error"} and {"code", "message", "status"} <= set(data["error"])
    err: dict[str, Any] = data["error"]
    return err


@pytest.mark.parametrize(
    ("path", "payload", "status", "google_status", "needle"),
    [
        (GEN, b"{not json", 400, "INVALID_ARGUMENT", "not valid JSON"),
        (GEN, b"[1]", 400, "INVALID_ARGUMENT", "JSON object"),
        (GEN, {"contents": []}, 400, "INVALID_ARGUMENT", "contents"),
        (
            GEN,
            ask("x", contents=[{"parts": [{"bogus": 1}]}]),
            400,
            "INVALID_ARGUMENT",
            "contents[0].parts[0].bogus",
        ),
        (GEN, ask("x", generationConfig={"candidateCount": 2}), 400, "INVALID_ARGUMENT", "candidateCount"),
        ("/v1beta/models/gemini-2.5-flash:embedContent", ask("x"), 404, "NOT_FOUND", "embedContent"),
        ("/v1beta/models/gemini-2.5-flash", ask("x"), 404, "NOT_FOUND", "gemini-2.5-flash"),
        ("/v1beta/models/no-such-model:generateContent", ask("x"), 404, "NOT_FOUND", "no-such-model"),
        (STREAM + "?alt=proto", ask("x"), 400, "INVALID_ARGUMENT", "alt"),
        ("/v1beta/nothing", ask("x"), 404, "NOT_FOUND", "Unknown path"),
        ("/v1/models/gemini-2.5-flash:countTokens", {"contents": "x"}, 400, "INVALID_ARGUMENT", "contents"),
    ],
)
async def test_bad_input_gets_a_gemini_error(
    gateway: Served, path: str, payload: Any, status: int, google_status: str, needle: str
) -> None:
    got, _, body = await call(gateway.base_url, path, payload)
    err = envelope(body)
    assert (got, err["code"], err["status"]) == (status, status, google_status)
    assert needle in err["message"]


async def test_pool_exhausted_is_429_resource_exhausted_with_retry_after(gateway: Served) -> None:
    status, headers, body = await call(gateway.base_url, GEN, ask("hi [[sim:usage_limit]]"))
    err = envelope(body)
    assert status == 429 and err["status"] == "RESOURCE_EXHAUSTED"
    assert int(headers["Retry-After"]) > 17000
    assert {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": headers["Retry-After"] + "s",
    } in err["details"]


async def test_api_key_in_query_or_header(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url, api_keys=["sk-right"])
    try:
        status, _, body = await call(served.base_url, GEN + "?key=wrong", ask("hi"))
        assert status == 401 and envelope(body)["status"] == "UNAUTHENTICATED"
        assert (await call(served.base_url, GEN + "?key=sk-right", ask("hi")))[0] == 200
        assert (await call(served.base_url, GEN, ask("hi"), {"x-goog-api-key": "sk-right"}))[0] == 200
    finally:
        await served.close()


async def test_generate_content_reply_and_ignored_header(gateway: Served) -> None:
    status, headers, body = await call(
        gateway.base_url, GEN, ask("Hello!", generationConfig={"temperature": 0.1})
    )
    reply = orjson.loads(body)
    assert status == 200 and headers["x-gptgate-ignored"] == "generationConfig.temperature"
    candidate = reply["candidates"][0]
    assert candidate["content"]["parts"][0]["text"] == "Hello! You said: Hello!."
    assert candidate["finishReason"] == "STOP" and reply["modelVersion"] == "gemini-2.5-flash"
    usage = reply["usageMetadata"]
    assert (
        usage["totalTokenCount"]
        == usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    )


@pytest.mark.parametrize("sse", [True, False], ids=["sse", "array"])
async def test_stream_framings(gateway: Served, sse: bool) -> None:
    path = STREAM + ("?alt=sse" if sse else "")
    status, headers, body = await call(gateway.base_url, path, ask("Stream please"))
    assert status == 200
    if sse:
        assert headers["Content-Type"].startswith("text/event-stream")
        elements = [orjson.loads(d) for d in sse_data(body)]
    else:
        assert headers["Content-Type"].startswith("application/json")
        elements = orjson.loads(body)
    text = "".join(p.get("text", "") for e in elements for p in e["candidates"][0]["content"]["parts"])
    assert text == "Hello! You said: Stream please."
    assert elements[-1]["candidates"][0]["finishReason"] == "STOP" and "usageMetadata" in elements[-1]


async def test_in_stream_failures_and_incomplete(gateway: Served) -> None:
    _, _, body = await call(gateway.base_url, STREAM + "?alt=sse", ask("x [[sim:failed]]"))
    last = orjson.loads(sse_data(body)[-1])
    assert last["error"]["status"] == "INVALID_ARGUMENT" and last["error"]["code"] == 400
    _, _, body = await call(gateway.base_url, STREAM, ask("x [[sim:cut after=6]]"))
    assert orjson.loads(body)[-1]["error"]["status"] == "UNAVAILABLE"
    _, _, body = await call(gateway.base_url, GEN, ask("x [[sim:incomplete]]"))
    assert orjson.loads(body)["candidates"][0]["finishReason"] == "MAX_TOKENS"


async def test_parallel_calls_and_id_round_trip(gateway: Served, simulator: RunningSimulator) -> None:
    """§8.5: the functionCall id the client sees comes back and reaches the upstream unchanged."""
    thinking = {"thinkingConfig": {"includeThoughts": True}}
    first = ask(
        "Weather? [[sim:parallel]]", tools=[WEATHER_TOOL, {"functionDeclarations": [{"name": "get_time"}]}]
    )
    first["generationConfig"] = thinking
    status, _, body = await call(gateway.base_url, STREAM + "?alt=sse", first)
    assert status == 200
    model_parts = [p for d in sse_data(body) for p in orjson.loads(d)["candidates"][0]["content"]["parts"]]
    calls = [p["functionCall"] for p in model_parts if "functionCall" in p]
    assert [c["name"] for c in calls] == ["get_weather", "get_time"]
    signed = [p["thoughtSignature"] for p in model_parts if "thoughtSignature" in p]
    assert len(signed) == 1 and "thoughtSignature" in next(p for p in model_parts if "functionCall" in p)
    encrypted = signature.decode(signed[0])
    assert encrypted
    follow_up = {
        **first,
        "contents": [
            *first["contents"],
            {"role": "model", "parts": model_parts},
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"id": c["id"], "name": c["name"], "response": {"result": "ok"}}}
                    for c in reversed(calls)
                ],
            },
        ],
    }
    simulator.state.clear_requests()
    status, _, body = await call(gateway.base_url, GEN, follow_up)
    assert status == 200, body
    sent = simulator.state.requests[-1]["body"]["input"]
    assert [i["type"] for i in sent] == [
        "message",
        "reasoning",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
    ]
    assert sent[1]["encrypted_content"] == encrypted
    assert [i["call_id"] for i in sent[2:]] == [
        calls[0]["id"],
        calls[1]["id"],
        calls[1]["id"],
        calls[0]["id"],
    ]


async def test_count_tokens_both_shapes_and_unknown_model(gateway: Served) -> None:
    path = "/v1beta/models/gemini-2.5-flash:countTokens"
    status, _, body = await call(gateway.base_url, path, ask("hello world"))
    total = orjson.loads(body)["totalTokens"]
    assert status == 200 and total > 2
    wrapped = {"generateContentRequest": {"model": "models/gemini-2.5-flash", **ask("hello world")}}
    assert orjson.loads((await call(gateway.base_url, path, wrapped))[2]) == {"totalTokens": total}
    status, _, body = await call(gateway.base_url, "/v1beta/models/nope:countTokens", ask("x"))
    assert status == 404 and envelope(body)["status"] == "NOT_FOUND"


async def test_model_listing_paging_and_lookup(gateway: Served) -> None:
    status, _, body = await call(gateway.base_url, "/v1beta/models", method="GET")
    listing = orjson.loads(body)
    names = [m["name"] for m in listing["models"]]
    assert status == 200 and names[:3] == [
        "models/gemini-2.5-pro",
        "models/gemini-2.5-flash",
        "models/gemini-2.5-flash-lite",
    ]
    assert "models/gpt-5.5" in names and "nextPageToken" not in listing
    entry = listing["models"][1]
    assert entry["supportedGenerationMethods"] == ["generateContent", "streamGenerateContent", "countTokens"]
    assert entry["thinking"] is True and entry["inputTokenLimit"] > 0 and entry["outputTokenLimit"] > 0
    paged: list[str] = []
    token = ""
    while True:
        query = "?pageSize=2" + (f"&pageToken={token}" if token else "")
        page = orjson.loads((await call(gateway.base_url, "/v1beta/models" + query, method="GET"))[2])
        paged += [m["name"] for m in page["models"]]
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert paged == names
    status, _, body = await call(gateway.base_url, "/v1beta/models?pageToken=garbage", method="GET")
    assert status == 400 and "pageToken" in envelope(body)["message"]
    one = orjson.loads((await call(gateway.base_url, "/v1beta/models/gemini-2.5-flash", method="GET"))[2])
    assert one["name"] == "models/gemini-2.5-flash" and one["version"] == "gpt-5.4-mini"
    status, _, body = await call(gateway.base_url, "/v1beta/models/nope", method="GET")
    assert status == 404 and envelope(body)["status"] == "NOT_FOUND"


async def test_shared_v1_models_path_is_told_apart_by_headers(gateway: Served) -> None:
    gemini = orjson.loads((await call(gateway.base_url, "/v1/models", headers=GOOG, method="GET"))[2])
    assert gemini["models"][0]["name"] == "models/gemini-2.5-pro"
    by_key = orjson.loads((await call(gateway.base_url, "/v1/models?key=k", method="GET"))[2])
    assert "models" in by_key
    openai = orjson.loads((await call(gateway.base_url, "/v1/models", method="GET"))[2])
    assert openai["object"] == "list"
    one = orjson.loads(
        (await call(gateway.base_url, "/v1/models/gemini-2.5-flash", headers=GOOG, method="GET"))[2]
    )
    assert one["name"] == "models/gemini-2.5-flash"
    status, _, body = await call(gateway.base_url, "/v1/models/nope", headers=GOOG, method="GET")
    assert status == 404 and envelope(body)["status"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "path",
    [
        "/v1beta/models/gemini-2.5-pro:generateContent:generateContent",
        "/v1beta/models/gemini-2.5-pro%3AgenerateContent",
        "/v1beta/models/gemini-2.5-pro%3agenerateContent",
    ],
)
async def test_doubled_or_encoded_method_suffix_is_404(gateway: Served, path: str) -> None:
    body = orjson.dumps({"contents": [{"parts": [{"text": "hi"}]}]})
    url = yarl.URL(gateway.base_url + path, encoded=True)  # as sent: %3A stays encoded
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=body, headers={"content-type": "application/json"}) as resp,
    ):
        data = orjson.loads(await resp.read())
    assert resp.status == 404
    assert data["error"]["status"] == "NOT_FOUND" and data["error"]["code"] == 404
