"""Usage rows from a real gateway and the simulator: every door, streamed and not, exact figures;
the admin API's usage and pool views; rows surviving ``kill -9`` of ``gptgate serve``."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.tokens import make_access_token
from tests.accounts.served import start_gateway_process
from tests.support import Served, start_gateway
from tests.support import test_account as account_of

ADMIN_TOKEN = "usage-tests-admin-token-0123456789"
SECRET = "usage-tests-secret-key-0123456789"
ADMIN = {"Authorization": "Bearer " + ADMIN_TOKEN}


def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'usage.db'}"


@pytest.fixture
async def served(simulator: RunningSimulator, tmp_path: Path) -> AsyncIterator[Served]:
    gateway = await start_gateway(
        simulator.base_url,
        [account_of()],
        account_store=True,
        database_url=db_url(tmp_path),
        secret_key=SECRET,
        admin_token=ADMIN_TOKEN,
        usage_flush_seconds=60.0,  # written by the admin API's flush (or at close), not the timer
    )
    try:
        yield gateway
    finally:
        await gateway.close()


def text(n: int) -> str:
    return f"usage test {n}: tell me something " + "word " * (10 * n)


def door_request(door: str, n: int, stream: bool) -> tuple[str, dict[str, Any]]:
    if door == "chat":
        return "/v1/chat/completions", {
            "model": "gpt-5.5",
            "stream": stream,
            "messages": [{"role": "user", "content": text(n)}],
            **({"stream_options": {"include_usage": True}} if stream else {}),
        }
    if door == "responses":
        return "/v1/responses", {"model": "gpt-5.5", "stream": stream, "input": text(n)}
    if door == "anthropic":
        return "/v1/messages", {
            "model": "claude-sonnet-4-5",
            "max_tokens": 256,
            "stream": stream,
            "messages": [{"role": "user", "content": text(n)}],
        }
    verb = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"/v1beta/models/gemini-2.5-pro:{verb}", {
        "contents": [{"role": "user", "parts": [{"text": text(n)}]}]
    }


#: (door, model, input, cached, output, reasoning) the simulator reported, request by request
EXPECTED = [
    ("chat", "gpt-5.5", 76, 0, 72, 59),
    ("chat", "gpt-5.5", 89, 0, 76, 61),
    ("responses", "gpt-5.5", 89, 0, 15, 0),
    ("responses", "gpt-5.5", 102, 0, 15, 0),
    ("anthropic", "gpt-5.5", 126, 0, 15, 0),
    ("anthropic", "gpt-5.5", 138, 0, 15, 0),
    ("gemini", "gpt-5.5", 151, 0, 15, 0),
    ("gemini", "gpt-5.5", 163, 0, 15, 0),
]


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> bytes:
    async with http.post(url, data=orjson.dumps(body)) as resp:
        raw = await resp.read()
        assert resp.status == 200, raw
        return raw


async def test_every_door_streamed_and_not_records_the_simulator_figures(served: Served) -> None:
    cases = [
        (door, stream) for door in ("chat", "responses", "anthropic", "gemini") for stream in (False, True)
    ]
    async with aiohttp.ClientSession() as http:
        replies = [
            await post(http, served.base_url + p, b)
            for p, b in (door_request(d, n, s) for n, (d, s) in enumerate(cases))
        ]
    gateway = served.gateway
    assert gateway is not None and gateway.store is not None
    await gateway.usage.flush()
    rows = list(gateway.store.usage.export())
    got = [
        (
            r["door"],
            r["model"],
            r["input_tokens"],
            r["cached_tokens"],
            r["output_tokens"],
            r["reasoning_tokens"],
        )
        for r in rows
    ]
    assert got == EXPECTED
    # the figures are the ones the client was told, too
    chat_usage = orjson.loads(replies[0])["usage"]
    assert (chat_usage["prompt_tokens"], chat_usage["completion_tokens"]) == (76, 72)
    assert orjson.loads(replies[2])["usage"]["input_tokens"] == 89
    assert orjson.loads(replies[6])["usageMetadata"]["promptTokenCount"] == 151
    for r in rows:
        assert (r["status"], r["error_class"], r["account_id"], r["upstream"], r["key_id"]) == (
            200,
            None,
            "cfg-acct-test-0001",
            "codex",
            None,
        )
        assert r["ttft_ms"] is not None and 0 <= r["ttft_ms"] <= r["duration_ms"] < 10_000
        assert r["request_id"].startswith("req_")


OPENING = "Here is a long document to discuss. " + "lorem ipsum dolor sit amet " * 120


async def test_derived_sessions_keep_a_gemini_and_a_chat_conversation_cached(served: Served) -> None:
    gemini = served.base_url + "/v1beta/models/gemini-2.5-pro:generateContent"
    chat = served.base_url + "/v1/chat/completions"
    first = {"role": "user", "parts": [{"text": OPENING}]}
    async with aiohttp.ClientSession() as http:
        await post(http, gemini, {"contents": [first]})
        second = [
            first,
            {"role": "model", "parts": [{"text": "ok"}]},
            {"role": "user", "parts": [{"text": "more"}]},
        ]
        await post(http, gemini, {"contents": second})
        messages = [{"role": "user", "content": OPENING + " (chat)"}]
        await post(http, chat, {"model": "gpt-5.5", "messages": messages})
        messages += [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "more"}]
        await post(http, chat, {"model": "gpt-5.5", "messages": messages})
    gateway = served.gateway
    assert gateway is not None and gateway.store is not None
    await gateway.usage.flush()
    rows = list(gateway.store.usage.export())
    sessions = [r["session"] for r in rows]
    assert sessions[0] == sessions[1] and sessions[2] == sessions[3] and sessions[0] != sessions[2]
    assert all(s is not None and len(s) == 24 for s in sessions)
    assert [r["cached_tokens"] for r in rows] == [0, 768, 0, 768]
    assert [r["input_tokens"] for r in rows] == [887, 928, 889, 930]


async def test_the_admin_api_shows_usage_and_the_pool(served: Served) -> None:
    base = served.base_url + "/admin/api"
    since = int(time.time()) - 60
    async with aiohttp.ClientSession(headers=ADMIN) as http:
        for n in range(3):
            await post(http, served.base_url + "/v1/chat/completions", door_request("chat", n, False)[1])
        async with http.get(base + f"/usage/summary?since={since}&by=account") as resp:
            summary = await resp.json()
        async with http.get(base + f"/usage/series?since={since}&bucket=60&by=model") as resp:
            series = await resp.json()
        async with http.get(base + "/usage/requests?limit=2") as resp:
            latest = await resp.json()
        async with http.get(base + "/usage/export?format=csv") as resp:
            assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
            exported = list(csv.DictReader(io.StringIO(await resp.text())))
        async with http.get(base + "/usage/export?format=json") as resp:
            as_json = orjson.loads(await resp.read())
        async with http.get(base + "/pool") as resp:
            pool = await resp.json()
        async with http.get(base + "/usage/summary?by=nope") as resp:
            assert resp.status == 400
            assert (await resp.json())["error"]["code"] == "invalid_parameter"
    async with aiohttp.ClientSession() as anonymous, anonymous.get(base + "/pool") as resp:
        assert resp.status == 401
    assert summary == {
        "rows": [
            {
                "group": "test",
                "requests": 3,
                "errors": 0,
                "input_tokens": 76 + 89 + 101,
                "cached_tokens": 0,
                "output_tokens": 72 + 76 + 76,
                "reasoning_tokens": 59 + 61 + 61,
                "cache_hit_share": 0.0,
            }
        ]
    }
    assert sum(series["requests"]["gpt-5.5"]) == 3 and sum(series["series"]["gpt-5.5"]) == 266 + 224
    assert len(series["buckets"]) == len(series["requests"]["gpt-5.5"]) >= 2
    assert [r["input_tokens"] for r in latest["rows"]] == [101, 89]
    assert set(latest["rows"][0]) == {
        "time", "key", "account", "upstream", "door", "model", "input_tokens", "cached_tokens",
        "output_tokens", "reasoning_tokens", "ttft_ms", "duration_ms", "status", "error_class",
    }  # fmt: skip
    assert latest["rows"][0]["account"] == "test"
    assert [r["input_tokens"] for r in exported] == ["76", "89", "101"]
    assert [r["input_tokens"] for r in as_json] == [76, 89, 101]
    (account,) = pool["accounts"]
    assert (account["id"], account["name"], account["plan"], account["status"]) == (
        "cfg-acct-test-0001",
        "test",
        "plus",
        "active",
    )
    assert account["cache_hit_share"] == 0.0
    primary = account["windows"]["primary"]
    assert set(primary) == {"used_percent", "resets_at", "window_minutes", "projected_exhaustion_at"}
    assert "access_token" not in orjson.dumps(pool).decode()
    assert len(pool["sessions"]) == 3 and all(s["requests"] == 1 for s in pool["sessions"])


def count_rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("select count(*) from usage").fetchone()[0])


async def test_rows_survive_kill_9_but_the_last_unflushed_batch(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    """N requests, one flush interval, kill -9: all N are stored. Then M more and kill -9 right
    after the last answer: at most usage_batch_size of them are missing (the README's bound)."""
    batch, flush = 10, 0.5
    proc = start_gateway_process(
        simulator,
        tmp_path,
        access_token=make_access_token("acct-kill-0001", plan="plus"),
        database_url=db_url(tmp_path),
        secret_key=SECRET,
        usage_batch_size=str(batch),
        usage_flush_seconds=str(flush),
    )
    db = tmp_path / "usage.db"
    try:
        async with aiohttp.ClientSession() as http:
            url = proc.base_url + "/v1/chat/completions"
            for _ in range(25):
                await post(http, url, door_request("chat", 0, False)[1])
            await asyncio.sleep(flush + 0.5)
            proc.kill()
    finally:
        proc.kill()
    assert count_rows(db) == 25
    proc = start_gateway_process(
        simulator,
        tmp_path,
        access_token=make_access_token("acct-kill-0001", plan="plus"),
        database_url=db_url(tmp_path),
        secret_key=SECRET,
        usage_batch_size=str(batch),
        usage_flush_seconds=str(flush),
    )
    try:
        async with aiohttp.ClientSession() as http:
            url = proc.base_url + "/v1/chat/completions"
            for _ in range(37):
                await post(http, url, door_request("chat", 0, False)[1])
            proc.kill()
    finally:
        proc.kill()
    assert 25 + 37 - batch <= count_rows(db) <= 25 + 37
