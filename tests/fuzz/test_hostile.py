"""Hostile input, one class per test, over real sockets against the production runner
(issue 13): each answered in the door's envelope with a 4xx, promptly, logged in one line."""

from __future__ import annotations

import asyncio
import gzip
import logging
import time
from typing import Any

import orjson
import pytest

from gptgate.settings import Settings
from gptgate.simulator.server import RunningSimulator
from tests.fuzz.envelopes import error_of
from tests.fuzz.served import TRACEBACK_MARKERS, port_of, raw_exchange, send, start_hardened
from tests.support import Served

KEY = {"authorization": "Bearer sk-fuzz-key"}
MODEL = "gpt-5.5"
CHAT = "/v1/chat/completions"


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], **extra}


def no_traceback(body: bytes) -> None:
    text = body.decode("utf-8", "replace")
    assert not any(marker in text for marker in TRACEBACK_MARKERS), text


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
async def test_undecodable_compressed_body_is_400(hardened: Served, encoding: str) -> None:
    status, _, body = await send(
        hardened.base_url,
        "POST",
        CHAT,
        b"\x1f\x8b not really compressed",
        KEY | {"content-encoding": encoding},
    )
    assert status == 400, body
    assert error_of("openai", body)["code"] == "invalid_body"


async def test_truncated_gzip_is_400(hardened: Served) -> None:
    packed = gzip.compress(orjson.dumps(chat()))[:-12]
    status, _, body = await send(hardened.base_url, "POST", CHAT, packed, KEY | {"content-encoding": "gzip"})
    assert status == 400 and error_of("openai", body)


def deep(levels: int, leaf: bytes = b"1") -> bytes:
    return b'{"a":' * levels + leaf + b"}" * levels


@pytest.mark.parametrize(
    ("path", "body", "door"),
    [
        (
            CHAT,
            b'{"model":"gpt-5.5","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function",'
            b'"function":{"name":"f","parameters":' + deep(300) + b"}}]}",
            "openai",
        ),
        ("/v1/responses", b'{"model":"gpt-5.5","input":[' + b"[" * 400 + b"]" * 400 + b"]}", "openai"),
        (
            "/v1/messages",
            b'{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}],'
            b'"tools":[{"name":"f","input_schema":' + deep(300) + b"}]}",
            "anthropic",
        ),
        (
            "/v1beta/models/gemini-2.5-pro:generateContent",
            b'{"contents":[{"parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f",'
            b'"parameters":' + deep(300) + b"}]}]}",
            "gemini",
        ),
        (CHAT, b'{"model":"gpt-5.5","messages":' + b"[" * 2000 + b"]" * 2000 + b"}", "openai"),
    ],
)
async def test_deep_nesting_is_400(hardened: Served, path: str, body: bytes, door: Any) -> None:
    status, _, answer = await send(hardened.base_url, "POST", path, body, KEY)
    assert status == 400, answer
    assert "levels deep" in error_of(door, answer)["message"]


async def test_nesting_at_the_limit_is_served(hardened: Served) -> None:
    body = (
        b'{"model":"gpt-5.5","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function",'
        b'"function":{"name":"f","parameters":' + deep(100) + b"}}]}"
    )
    status, _, answer = await send(hardened.base_url, "POST", CHAT, body, KEY)
    assert status == 200, answer


@pytest.mark.parametrize("header", [b"Authorization: Bearer sk-\xc3\xa9\xff", b"x-api-key: sk-\xe9t\xe9"])
async def test_non_ascii_key_is_401(hardened: Served, header: bytes) -> None:
    body = orjson.dumps(chat())
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + header
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    answer = await raw_exchange(port_of(hardened), request)
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401"), answer
    assert error_of("openai", payload)["type"] == "authentication_error"


@pytest.mark.parametrize(
    ("reasoning", "param"),
    [
        ({"effort": ["high"]}, "reasoning.effort"),
        ({"effort": {"a": 1}}, "reasoning.effort"),
        ({"effort": "extreme"}, "reasoning.effort"),
        ({"summary": 3}, "reasoning.summary"),
        ("high", "reasoning"),
    ],
)
async def test_wrong_types_in_responses_fields_are_400(hardened: Served, reasoning: Any, param: str) -> None:
    body = {"model": MODEL, "input": "hi", "reasoning": reasoning}
    status, _, answer = await send(hardened.base_url, "POST", "/v1/responses", body, KEY)
    assert status == 400, answer
    assert error_of("openai", answer)["param"] == param


async def test_responses_text_verbosity_enum(hardened: Served) -> None:
    body = {"model": MODEL, "input": "hi", "text": {"verbosity": ["low"]}}
    status, _, answer = await send(hardened.base_url, "POST", "/v1/responses", body, KEY)
    assert status == 400 and error_of("openai", answer)["param"] == "text.verbosity"


@pytest.mark.parametrize(
    ("path", "body", "door", "param"),
    [
        (
            "/v1/responses",
            {"model": MODEL, "input": "hi", "prompt_cache_key": "a\r\nX-Evil: 1"},
            "openai",
            "prompt_cache_key",
        ),
        (CHAT, chat(prompt_cache_key="a\nb"), "openai", "prompt_cache_key"),
        (
            "/v1/messages",
            {
                "model": "claude-sonnet-4-5",
                "max_tokens": 10,
                "messages": [{"role": "user", "content": "hi"}],
                "metadata": {"user_id": orjson.dumps({"session_id": "s\r\nX-Evil: 1"}).decode()},
            },
            "anthropic",
            "metadata.user_id",
        ),
    ],
)
async def test_crlf_bound_for_an_upstream_header_is_400(
    hardened: Served, path: str, body: dict[str, Any], door: Any, param: str
) -> None:
    status, _, answer = await send(hardened.base_url, "POST", path, body, KEY)
    assert status == 400, answer
    assert error_of(door, answer).get("param", param) == param


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/messages/count_tokens",
            {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "ab1 " * 300_000}]},
            "input_tokens",
        ),
        (
            "/v1beta/models/gemini-2.5-pro:countTokens",
            {"contents": [{"parts": [{"text": "a" * 1_100_000}]}]},
            "totalTokens",
        ),
    ],
)
async def test_huge_text_on_token_count_is_counted(
    simulator: RunningSimulator, path: str, body: Any, field: str
) -> None:
    served = await start_hardened(simulator.base_url, api_keys=["sk-fuzz-key"])
    try:
        started = time.monotonic()
        status, _, answer = await send(
            served.base_url, "POST", path, body, KEY | {"x-goog-api-key": "sk-fuzz-key"}
        )
        assert status == 200, answer[:300]
        assert orjson.loads(answer)[field] > 100_000
        assert time.monotonic() - started < 5
    finally:
        await served.close()


async def test_declared_length_over_the_limit_is_413_at_once(hardened: Served) -> None:
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-fuzz-key\r\n"
        b"Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{}"
    )
    started = time.monotonic()
    answer = await raw_exchange(port_of(hardened), request, wait_s=3)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert time.monotonic() - started < 2
    assert error_of("openai", answer.partition(b"\r\n\r\n")[2])["code"] == "request_too_large"


@pytest.mark.parametrize(
    "head",
    [
        b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-SECRET" + b"A" * 9000 + b"\r\n\r\n",
        b"GET /v1/models HTTP/1.1\r\nHost: x\r\nx-api-key: sk-SECRET\x01\r\n\r\n",
        b"GET /v1/models?key=sk-SECRET" + b"B" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
)
async def test_parser_400_echoes_nothing_and_logs_one_line(
    hardened: Served, head: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = await raw_exchange(port_of(hardened), head)
    assert answer.split(b"\r\n", 1)[0].split(b" ")[1] in (b"400", b"414", b"431"), answer
    assert b"SECRET" not in answer and b"aiohttp" not in answer and b"Python" not in answer
    error_of("openai", answer.partition(b"\r\n\r\n")[2])
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "SECRET" not in caplog.text and "Traceback" not in caplog.text


async def test_no_answer_names_the_server_library(hardened: Served) -> None:
    for path in ("/health", "/v1/models", "/v1/nothing"):
        _, headers, _ = await send(hardened.base_url, "GET", path, None, KEY)
        assert headers.get("Server") == "gptgate", headers


async def test_malformed_requests_log_one_short_line_each(
    hardened: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for payload, hdrs in [
        (b"garbage", {"content-encoding": "gzip"}),
        (b"{not json", {}),
        (b'{"model":' + b"[" * 3000, {}),
        (orjson.dumps(chat(frequency_penalty="7")), {}),
    ]:
        status, _, body = await send(hardened.base_url, "POST", CHAT, payload, KEY | hdrs)
        assert 400 <= status < 500
        no_traceback(body)
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text


async def test_debug_access_log_hides_the_query_key(
    simulator: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="gptgate.access")
    served = await start_hardened(simulator.base_url, api_keys=["sk-query-secret"])
    try:
        status, _, _ = await send(
            served.base_url, "GET", "/v1beta/models?key=sk-query-secret&pageSize=2", None
        )
        assert status == 200
        await asyncio.sleep(0.05)
    finally:
        await served.close()
    access = [r.getMessage() for r in caplog.records if r.name == "gptgate.access"]
    assert access and "/v1beta/models?key=" in access[0], access
    assert "sk-query-secret" not in access[0]
    assert "sk-query-secret" not in caplog.text


@pytest.mark.parametrize("key", ["", " "])
def test_blank_key_on_a_public_bind_refuses_to_start(key: str) -> None:
    from gptgate.server import check_public_keys

    with pytest.raises(SystemExit, match="empty or blank key"):
        check_public_keys(Settings(host="0.0.0.0", api_keys=[key], account_store=False))
    check_public_keys(Settings(host="127.0.0.1", api_keys=[key], account_store=False))
    check_public_keys(Settings(host="0.0.0.0", api_keys=["sk-real"], account_store=False))
