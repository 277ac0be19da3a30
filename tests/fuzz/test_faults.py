"""Every simulator fault on every door, stream and non-stream (issue 13): the right status in
the door's envelope before the first byte, or an in-band error after it; never a traceback."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest

from tests.fuzz.envelopes import Door, error_of
from tests.fuzz.served import TIMEOUT, TRACEBACK_MARKERS
from tests.support import Served

#: fault -> statuses a non-stream call may answer (before the first byte the gateway may retry,
#: so a fault on the only account ends as that account's error)
EXPECTED: dict[str, set[int]] = {
    "usage_limit": {429},
    "unauthorized": {502, 503},  # refreshed and retried, then probation: never a 429
    "server_error": {502, 503},
    "overloaded": {502, 503},
    "rate_limited": {429, 503},
    "slow_first_byte": {200},
    "cut": {502, 503},
    "failed": {400},
    "usage_limit_in_stream": {429},
    "incomplete": {200},
}
#: faults that strike after the stream has begun: a stream answers 200 and reports in band
IN_BAND = {"cut", "failed", "usage_limit_in_stream"}
DIRECTIVE = {"slow_first_byte": "[[sim:slow_first_byte ms=50]]"}


def call(door: Door, text: str, stream: bool) -> tuple[str, dict[str, Any]]:
    if door == "openai":
        return "/v1/chat/completions", {
            "model": "gpt-5.5",
            "messages": [{"role": "user", "content": text}],
            "stream": stream,
        }
    if door == "anthropic":
        return "/v1/messages", {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": text}],
            "stream": stream,
        }
    verb = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"/v1beta/models/gemini-2.5-pro:{verb}", {
        "contents": [{"role": "user", "parts": [{"text": text}]}]
    }


def in_band_error(door: Door, body: bytes) -> bool:
    if door == "anthropic":
        return b"event: error" in body
    return any(line.startswith(b"data: ") and b'"error"' in line for line in body.splitlines())


@pytest.mark.parametrize("door", ["openai", "anthropic", "gemini"])
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("fault", sorted(EXPECTED))
async def test_fault_on_every_door(gateway: Served, door: Door, stream: bool, fault: str) -> None:
    text = "hi " + DIRECTIVE.get(fault, f"[[sim:{fault}]]")
    path, body = call(door, text, stream)
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.post(
            gateway.base_url + path, data=orjson.dumps(body), headers={"content-type": "application/json"}
        ) as resp,
    ):
        status, answer = resp.status, await resp.read()
    assert not any(m in answer.decode("utf-8", "replace") for m in TRACEBACK_MARKERS), answer[:300]
    if stream and fault in IN_BAND and status == 200:  # else caught before the first byte
        assert in_band_error(door, answer), answer[-400:]
        return
    if stream and fault == "incomplete":
        assert status == 200
        return
    assert status in EXPECTED[fault], (status, answer[:400])
    if status >= 400:
        error_of(door, answer)
