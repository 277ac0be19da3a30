"""Every fault kind, queued through /_sim/faults or written as a [[sim:...]] directive."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson
import pytest

from gptgate.simulator import RunningSimulator
from tests.simulator.sim_helpers import (
    TURN_PATH,
    answer_text,
    assert_same_shapes,
    assert_sequence,
    auth_headers,
    completed,
    load_fixture,
    parse_sse,
    turn_body,
    types,
)


async def turn(
    http: aiohttp.ClientSession, sim: RunningSimulator, text: str = "hi", account: str | None = None
) -> tuple[int, Mapping[str, str], bytes]:
    headers = auth_headers() if account is None else auth_headers(account)
    async with http.post(sim.base_url + TURN_PATH, json=turn_body(text), headers=headers) as response:
        return response.status, response.headers.copy(), await response.read()


async def queue(
    http: aiohttp.ClientSession, sim: RunningSimulator, *faults: dict[str, Any], **extra: Any
) -> None:
    async with http.post(sim.base_url + "/_sim/faults", json={"faults": list(faults), **extra}) as response:
        assert response.status == 200, await response.text()
        assert (await response.json())["queued"] == len(faults)


@pytest.mark.parametrize("via", ["queue", "directive"])
async def test_usage_limit(http: aiohttp.ClientSession, sim: RunningSimulator, via: str) -> None:
    if via == "queue":
        await queue(http, sim, {"kind": "usage_limit", "resets_in": 600})
        status, headers, raw = await turn(http, sim)
    else:
        status, headers, raw = await turn(http, sim, "hi [[sim:usage_limit resets_in=600]]")
    assert status == 429
    error = orjson.loads(raw)["error"]
    assert error["type"] == "usage_limit_reached" and error["resets_in_seconds"] == 600
    assert abs(error["resets_at"] - (time.time() + 600)) < 5
    assert headers["x-codex-primary-used-percent"] == "100"
    assert headers["x-codex-primary-reset-at"] == str(error["resets_at"])
    assert "retry-after" not in headers


async def test_usage_limit_in_stream(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    status, _, raw = await turn(http, sim, "hi [[sim:usage_limit_in_stream]]")
    events = parse_sse(raw)
    assert status == 200 and types(events) == ["response.created", "response.in_progress", "response.failed"]
    error = events[-1]["response"]["error"]
    assert error["type"] == error["code"] == "usage_limit_reached"
    assert error["plan_type"] == "plus" and error["resets_at"] > time.time()
    assert_same_shapes(events, load_fixture("response-failed.real-payload.sse")[:2])


@pytest.mark.parametrize(
    ("kind", "status", "check"),
    [
        ("unauthorized", 401, lambda b: b["error"]["code"] == "token_expired"),
        ("server_error", 500, lambda b: b["error"]["type"] == "server_error"),
        ("overloaded", 503, lambda b: b["error"]["code"] == "server_is_overloaded"),
        ("bad_request", 400, lambda b: "detail" in b),
        ("rate_limited", 429, lambda b: b["error"]["type"] == "rate_limit_exceeded"),
    ],
)
async def test_error_faults(
    http: aiohttp.ClientSession, sim: RunningSimulator, kind: str, status: int, check: Any
) -> None:
    await queue(http, sim, {"kind": kind})
    got, headers, raw = await turn(http, sim)
    assert got == status and check(orjson.loads(raw))
    assert headers["content-type"] == "application/json"
    if kind == "rate_limited":
        assert headers["retry-after"] == "1"
    assert (await turn(http, sim))[0] == 200  # consumed: the next turn is normal


async def test_slow_first_byte(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    started = time.monotonic()
    status, _, _ = await turn(http, sim, "hi [[sim:slow_first_byte ms=150]]")
    assert status == 200 and time.monotonic() - started >= 0.14


async def test_first_byte_delay_setting(http: aiohttp.ClientSession, make_sim: Any) -> None:
    simulator = await make_sim(first_byte_delay_ms=120)
    started = time.monotonic()
    assert (await turn(http, simulator))[0] == 200
    assert time.monotonic() - started >= 0.11


async def read_until_cut(response: aiohttp.ClientResponse) -> bytes:
    received = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async for chunk in response.content.iter_any():
            received += chunk
    return received


@pytest.mark.parametrize("mode", ["burst", "paced"])
async def test_cut_truncates_the_body(http: aiohttp.ClientSession, make_sim: Any, mode: str) -> None:
    simulator = await make_sim(mode=mode)
    fixture = load_fixture("stream-cut-no-terminal.constructed.sse")
    body = turn_body("hi [[sim:cut after=5]]")
    async with http.post(simulator.base_url + TURN_PATH, json=body, headers=auth_headers()) as response:
        assert response.status == 200
        received = await read_until_cut(response)
    events = parse_sse(received)
    assert types(events) == types(fixture)
    assert_sequence(events)
    assert_same_shapes(events, fixture)


async def test_queued_cut_default(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    await queue(http, sim, {"kind": "cut"})
    async with http.post(sim.base_url + TURN_PATH, json=turn_body(), headers=auth_headers()) as response:
        events = parse_sse(await read_until_cut(response))
    assert len(events) == 5 and events[-1]["type"] == "response.output_text.delta"


async def test_empty_output(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    status, _, raw = await turn(http, sim, "hi [[sim:empty_output]]")
    events = parse_sse(raw)
    assert status == 200 and completed(events)["output"] == []
    assert "response.output_item.done" in types(events) and answer_text(events)


async def test_incomplete(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    status, _, raw = await turn(http, sim, "hi [[sim:incomplete]]")
    assert status == 200
    events = parse_sse(raw)
    assert_sequence(events)
    response = events[-1]["response"]
    assert events[-1]["type"] == "response.incomplete" and response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["output"][0]["status"] == "incomplete" and response["usage"]["output_tokens"] > 0
    assert_same_shapes([{**events[-1], "type": "response.completed"}], load_fixture("text.constructed.sse"))


async def test_failed_with_custom_code(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    text = 'hi [[sim:failed after=1 code=rate_limit_exceeded message="Please try again in 1.5s"]]'
    events = parse_sse((await turn(http, sim, text))[2])
    assert types(events).count("response.output_text.delta") == 1
    assert events[-1]["response"]["error"] == {
        "code": "rate_limit_exceeded",
        "message": "Please try again in 1.5s",
    }


async def test_faults_are_fifo_and_account_scoped(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    await queue(http, sim, {"kind": "server_error"}, account_id="acc-b")
    await queue(http, sim, {"kind": "overloaded"}, {"kind": "bad_request", "message": "nope"})
    assert (await turn(http, sim, account="acc-a"))[0] == 503
    assert (await turn(http, sim, account="acc-b"))[0] == 500
    status, _, raw = await turn(http, sim, account="acc-b")
    assert status == 400 and orjson.loads(raw) == {"detail": "nope"}
    assert (await turn(http, sim, account="acc-b"))[0] == 200


async def test_clear_and_list_faults(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    await queue(http, sim, {"kind": "server_error"}, {"kind": "cut", "after": 3})
    async with http.get(sim.base_url + "/_sim/faults") as response:
        listed = (await response.json())["faults"]
    assert [f["kind"] for f in listed] == ["server_error", "cut"] and listed[1]["after"] == 3
    async with http.delete(sim.base_url + "/_sim/faults") as response:
        assert (await response.json()) == {"cleared": 2}
    assert (await turn(http, sim))[0] == 200


async def test_unknown_fault_kinds_are_refused(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    async with http.post(sim.base_url + "/_sim/faults", json={"faults": [{"kind": "explode"}]}) as response:
        assert response.status == 400
    status, _, raw = await turn(http, sim, "hi [[sim:explode]]")
    assert status == 400 and "explode" in orjson.loads(raw)["detail"]


async def test_directive_only_read_from_last_user_message(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    body = turn_body("[[sim:server_error]] earlier")
    body["input"].append(
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]}
    )
    body["input"].append({"type": "message", "role": "user", "content": "now [[sim:text deltas=2]]"})
    async with http.post(sim.base_url + TURN_PATH, json=body, headers=auth_headers()) as response:
        events = parse_sse(await response.read())
    assert types(events).count("response.output_text.delta") == 2
    assert answer_text(events) == "Hello! You said: now."


async def test_slow_first_byte_combines_with_error(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    started = time.monotonic()
    status, _, _ = await turn(http, sim, "[[sim:slow_first_byte ms=100]] [[sim:overloaded retry_after=2]]")
    assert status == 503 and time.monotonic() - started >= 0.09
