"""Bad input and upstream failures, over real sockets: the OpenAI envelope, the right status."""

from __future__ import annotations

import asyncio
import gzip
import os
import time
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from gptgate.simulator.server import RunningSimulator
from tests.support import Served, chat_chunks, serve_app, start_gateway

MODEL = "gpt-5.5"


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **extra}


async def post(
    base: str, path: str, data: bytes | dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    body = data if isinstance(data, bytes) else orjson.dumps(data)
    hdrs = {"content-type": "application/json", **(headers or {})}
    async with aiohttp.ClientSession() as http, http.post(base + path, data=body, headers=hdrs) as resp:
        return resp.status, dict(resp.headers), await resp.read()


def envelope(body: bytes) -> dict[str, Any]:
    data = orjson.loads(body)
    assert set(data) == {"error"}
    assert set(data["error"]) == {"message", "type", "param", "code"}
    err: dict[str, Any] = data["error"]
    return err


@pytest.mark.parametrize(
    ("payload", "status", "param", "code"),
    [
        (b"{not json", 400, None, None),
        (b"[1,2]", 400, None, None),
        (b"", 400, None, None),
        (chat("x", model=5), 400, "model", None),
        (
            {"model": MODEL, "messages": [{"role": "user", "content": {"a": 1}}]},
            400,
            "messages[0].content",
            None,
        ),
        (chat("x", model="no-such-model"), 404, "model", "model_not_found"),
        (chat("x", n=3), 400, "n", "unsupported_parameter"),
    ],
)
async def test_bad_input_gets_an_openai_error(
    gateway: Served, payload: Any, status: int, param: str | None, code: str | None
) -> None:
    got, _, body = await post(gateway.base_url, "/v1/chat/completions", payload)
    err = envelope(body)
    assert got == status
    assert err["param"] == param
    assert err["code"] == code
    assert err["message"]


async def test_bad_input_on_responses_too(gateway: Served) -> None:
    status, _, body = await post(gateway.base_url, "/v1/responses", {"model": MODEL})
    assert status == 400 and envelope(body)["param"] == "input"


async def test_unknown_path_and_wrong_method(gateway: Served) -> None:
    status, _, body = await post(gateway.base_url, "/v1/nothing-here", {})
    assert status == 404 and envelope(body)["type"] == "not_found_error"
    async with aiohttp.ClientSession() as http, http.get(gateway.base_url + "/v1/chat/completions") as resp:
        assert resp.status == 405
        envelope(await resp.read())


async def test_oversize_body_is_413(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url, max_body_mb=0.01)
    try:
        status, _, body = await post(served.base_url, "/v1/chat/completions", chat("x" * 20000))
        assert status == 413 and envelope(body)["code"] == "request_too_large"

        async def chunked() -> Any:  # no Content-Length: the limit is found while reading
            data = orjson.dumps(chat("x" * 20000))
            for start in range(0, len(data), 4096):
                yield data[start : start + 4096]

        async with (
            aiohttp.ClientSession() as http,
            http.post(served.base_url + "/v1/chat/completions", data=chunked()) as resp,
        ):
            assert resp.status == 413
            assert envelope(await resp.read())["message"] == (
                "The request body is larger than this gateway accepts "
                "(the body passed the limit of 10485 bytes)."
            )
    finally:
        await served.close()


async def test_a_declared_length_over_the_limit_is_413_even_when_the_body_inflates_to_less(
    simulator: RunningSimulator,
) -> None:
    served = await start_gateway(simulator.base_url, max_body_mb=0.01)
    try:
        data = gzip.compress(os.urandom(10_470))  # random bytes: the gzip is larger than they are
        assert len(data) > 10_485
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                served.base_url + "/v1/chat/completions", data=data, headers={"Content-Encoding": "gzip"}
            ) as resp,
        ):
            assert resp.status == 413
            assert envelope(await resp.read())["message"] == (
                "The request body is larger than this gateway accepts "
                f"(Content-Length {len(data)} exceeds the limit of 10485 bytes)."
            )
    finally:
        await served.close()


async def test_api_keys_are_enforced(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url, api_keys=["sk-right"])
    try:
        status, _, body = await post(served.base_url, "/v1/chat/completions", chat("hi"))
        assert status == 401 and envelope(body)["code"] == "invalid_api_key"
        status, _, body = await post(
            served.base_url, "/v1/chat/completions", chat("hi"), {"authorization": "Bearer sk-wrong"}
        )
        assert status == 401 and "Incorrect API key" in envelope(body)["message"]
        status, _, _ = await post(
            served.base_url, "/v1/chat/completions", chat("hi"), {"authorization": "Bearer sk-right"}
        )
        assert status == 200
        status, _, _ = await post(
            served.base_url, "/v1/chat/completions", chat("hi"), {"x-api-key": "sk-right"}
        )
        assert status == 200
    finally:
        await served.close()


async def test_usage_limit_cools_the_account_and_answers_429_with_retry_after(
    gateway: Served, simulator: RunningSimulator
) -> None:
    status, headers, body = await post(
        gateway.base_url, "/v1/chat/completions", chat("hi [[sim:usage_limit]]")
    )
    assert status == 429
    err = envelope(body)
    assert err["type"] == "rate_limit_exceeded" and err["code"] == "pool_exhausted"
    assert "cooling" in err["message"] and "usage_limit_reached" in err["message"]
    retry_after = int(headers["Retry-After"])
    assert 17000 < retry_after <= 17400 + 5  # the fixture-shaped body: resets_in_seconds 17400
    sent = len(simulator.state.requests)
    status, headers, _ = await post(gateway.base_url, "/v1/chat/completions", chat("hi again"))
    assert status == 429 and int(headers["Retry-After"]) > 17000
    assert len(simulator.state.requests) == sent  # a cooling account is not asked again


async def test_usage_limit_inside_a_200_stream_is_still_a_429(gateway: Served) -> None:
    status, headers, body = await post(
        gateway.base_url, "/v1/chat/completions", chat("hi [[sim:usage_limit_in_stream]]", stream=True)
    )
    assert status == 429 and "Retry-After" in headers
    assert envelope(body)["code"] == "pool_exhausted"


async def test_upstream_400_detail_reaches_the_client(gateway: Served) -> None:
    status, _, body = await post(gateway.base_url, "/v1/chat/completions", chat("[[sim:bad_request]]"))
    assert status == 400 and envelope(body)["type"] == "invalid_request_error"


async def test_5xx_is_retried_then_reported_as_502(gateway: Served, simulator: RunningSimulator) -> None:
    before = len(simulator.state.requests)
    status, _, body = await post(gateway.base_url, "/v1/chat/completions", chat("[[sim:server_error]]"))
    assert status == 502 and envelope(body)["code"] == "upstream_unavailable"
    assert len(simulator.state.requests) - before == 3  # retry_times=2


async def test_one_5xx_then_success_is_invisible_to_the_client(
    gateway: Served, simulator: RunningSimulator
) -> None:
    async with aiohttp.ClientSession() as http:
        await http.post(simulator.base_url + "/_sim/faults", json={"faults": [{"kind": "server_error"}]})
    status, _, body = await post(gateway.base_url, "/v1/chat/completions", chat("hello"))
    assert status == 200
    assert orjson.loads(body)["choices"][0]["message"]["content"].startswith("Hello! You said: hello")


async def test_slow_first_byte_times_out_with_504(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url, first_byte_timeout=0.2, retry_times=0)
    try:
        status, _, body = await post(
            served.base_url, "/v1/chat/completions", chat("[[sim:slow_first_byte ms=1500]]")
        )
        assert status == 504 and envelope(body)["code"] == "upstream_timeout"
    finally:
        await served.close()


async def test_failure_after_first_byte_is_in_band_and_closes(gateway: Served) -> None:
    status, _, body = await post(
        gateway.base_url, "/v1/chat/completions", chat("[[sim:cut after=6]]", stream=True)
    )
    assert status == 200
    chunks = chat_chunks(body)
    assert chunks[-1] == "[DONE]"
    assert chunks[-2]["error"]["code"] == "stream_disconnected"
    assert not any(
        c["choices"][0]["finish_reason"] for c in chunks[:-2] if isinstance(c, dict) and c.get("choices")
    )
    status, _, body = await post(
        gateway.base_url, "/v1/chat/completions", chat("[[sim:failed]]", stream=True)
    )
    chunks = chat_chunks(body)
    assert chunks[-2]["error"]["code"] == "context_length_exceeded" and chunks[-1] == "[DONE]"


@pytest.mark.parametrize("transport", ["aiohttp", "curl_cffi"])
async def test_client_disconnect_closes_the_upstream_request(transport: str) -> None:
    seen = {"closed": asyncio.Event()}

    async def slow(request: web.Request) -> web.StreamResponse:
        await request.read()
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        created = b'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"r1"}}\n\n'
        await resp.write(created)
        try:
            for i in range(200):
                delta = {
                    "type": "response.output_text.delta",
                    "sequence_number": i + 1,
                    "item_id": "m",
                    "delta": "x",
                }
                await resp.write(b"event: response.output_text.delta\ndata: " + orjson.dumps(delta) + b"\n\n")
                await asyncio.sleep(0.05)
        except (ConnectionError, asyncio.CancelledError):
            seen["closed"].set()
            raise
        return resp

    app = web.Application()
    app.router.add_post("/backend-api/codex/responses", slow)
    runner, base = await serve_app(app)
    served = await start_gateway(base, codex_transport=transport)
    try:
        started = time.monotonic()
        async with aiohttp.ClientSession() as http:
            resp = await http.post(served.base_url + "/v1/chat/completions", json=chat("hi", stream=True))
            await resp.content.readline()
            resp.close()  # the client goes away mid-stream
        await asyncio.wait_for(seen["closed"].wait(), timeout=3)
        assert time.monotonic() - started < 3
        assert served.gateway is not None and served.gateway.pool.accounts[0].in_flight == 0
    finally:
        await served.close()
        await runner.cleanup()


async def test_errors_come_in_the_envelope_of_the_clients_protocol(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url, api_keys=["sk-right"])
    try:
        status, headers, body = await post(
            served.base_url, "/v1/messages?beta=true", {}, {"anthropic-version": "2023-06-01"}
        )
        data = orjson.loads(body)
        assert status == 401 and data["type"] == "error"
        assert data["error"] == {"type": "authentication_error", "message": data["error"]["message"]}
        assert data["request_id"].startswith("req_") and headers["request-id"] == data["request_id"]

        status, _, body = await post(
            served.base_url, "/v1beta/models/gemini-2.5-flash:generateContent", {}, {"x-goog-api-key": "bad"}
        )
        err = orjson.loads(body)["error"]
        assert status == 401 and err["code"] == 401 and err["status"] == "UNAUTHENTICATED"

        status, _, body = await post(
            served.base_url,
            "/v1/no-such-thing",
            {},
            {"x-api-key": "sk-right", "anthropic-version": "2023-06-01"},
        )
        assert status == 404 and orjson.loads(body)["error"]["type"] == "not_found_error"
        status, _, body = await post(served.base_url, "/v1/no-such-thing?key=sk-right", {})
        assert status == 404 and orjson.loads(body)["error"]["status"] == "NOT_FOUND"
        status, _, body = await post(
            served.base_url, "/v1/no-such-thing", {}, {"authorization": "Bearer sk-right"}
        )
        assert status == 404 and envelope(body)["type"] == "not_found_error"
    finally:
        await served.close()
