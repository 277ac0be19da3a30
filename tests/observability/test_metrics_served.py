"""``gptgate serve --workers 2``: /metrics sums both workers, and the log file gets redacted lines."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import orjson
import pytest

from tests.processes import serve_process

SECRET = "AIzaPlantedSecret0042"
CHATS = 6


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log_file = tmp_path / "gateway.log"
    args = ("--demo", "--port", "0", "--workers", "2", "--log-level", "debug")
    with serve_process(*args, env={"GPTGATE_LOG_FILE": str(log_file)}, stop_timeout=15) as base:
        yield base, log_file


def total(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


async def scrape(base: str) -> str:
    """One scrape on a new connection: the kernel hands it to either worker."""
    async with aiohttp.ClientSession() as fresh, fresh.get(base + "/metrics") as resp:
        assert resp.status == 200
        return await resp.text()


async def scraped_counts(base: str, n: int) -> list[float]:
    return [total(await scrape(base), "gptgate_requests_total") for _ in range(n)]


async def test_metrics_sum_over_workers_and_the_log_is_redacted(two_workers: tuple[str, Path]) -> None:
    base, log_file = two_workers
    chat = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}
    gemini = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    async with aiohttp.ClientSession() as http:
        for _ in range(CHATS):
            async with http.post(base + "/v1/chat/completions", data=orjson.dumps(chat)) as resp:
                assert resp.status == 200
        url = f"{base}/v1beta/models/gemini-2.5-flash:generateContent?key={SECRET}"
        async with http.post(url, data=orjson.dumps(gemini)) as resp:
            assert resp.status == 200
        # each worker applies its counts every second (and before answering a scrape itself):
        # wait until both workers' timers have run, then every scrape sees every call
        for _ in range(100):
            if await scraped_counts(base, 8) == [CHATS + 1.0] * 8:
                break
            await asyncio.sleep(0.05)
        scrapes = [await scrape(base) for _ in range(8)]
    counts = [total(text, "gptgate_requests_total") for text in scrapes]
    assert counts == [CHATS + 1.0] * len(scrapes)
    assert all('gptgate_accounts{state="active"} 1.0' in text.splitlines() for text in scrapes)
    assert all("gptgate_active_streams 0.0" in text.splitlines() for text in scrapes)
    for _ in range(100):  # the access line is written as the response ends: at most 2 s
        if "generateContent" in log_file.read_text():
            break
        await asyncio.sleep(0.02)
    text = log_file.read_text()
    assert SECRET not in text
    assert re.search(
        r'"POST /v1beta/models/gemini-2\.5-flash:generateContent\?key=\[REDACTED\] HTTP/1\.1" 200', text
    )
