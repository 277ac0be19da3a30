"""What every golden test shares: the replayed fixtures, the reviewed files, one exchange."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aiohttp

from tests.support import fixture_path, replay, start_gateway, start_raw_upstream

EXPECTED = Path(__file__).parent / "expected"
SSE_FIXTURES = [
    "text.constructed.sse",
    "reasoning-text.constructed.sse",
    "function-call.constructed.sse",
    "response-failed.real-payload.sse",
    "stream-cut-no-terminal.constructed.sse",
]


def check_golden(name: str, actual: str) -> None:
    path = EXPECTED / name
    if os.environ.get("GPTGATE_REGEN_GOLDEN"):
        path.write_text(actual)
    assert path.exists(), f"no golden file {path}; run with GPTGATE_REGEN_GOLDEN=1 and review it"
    assert actual == path.read_text()


async def exchange(fixture: str, path: str, payload: Any) -> tuple[int, dict[str, str], bytes]:
    """POST ``payload`` to a gateway whose upstream replays ``fixture`` byte for byte."""
    upstream = await start_raw_upstream(replay(fixture_path("codex", fixture).read_bytes()))
    gateway = await start_gateway(upstream.base_url)
    try:
        async with aiohttp.ClientSession() as http, http.post(gateway.base_url + path, json=payload) as resp:
            return resp.status, dict(resp.headers), await resp.read()
    finally:
        await gateway.close()
        await upstream.close()


WEB_FIXTURES = [
    "delta-v1-text.constructed.sse",
    "delta-v1-reasoning.constructed.sse",
    "old-format-snapshots.real-excerpt.sse",
    "old-format-tool-turn.constructed.sse",
]


async def exchange_web(fixture: str, path: str, payload: Any) -> tuple[int, dict[str, str], bytes]:
    """POST ``payload`` to a gateway whose web upstream replays ``fixtures/web/fixture``."""
    from tests.upstreams.chatgpt_web.raw import start_raw_web_upstream

    upstream = await start_raw_web_upstream(replay(fixture_path("web", fixture).read_bytes()))
    gateway = await start_gateway(upstream.base_url, chatgpt_base_urls=[upstream.base_url])
    try:
        async with aiohttp.ClientSession() as http, http.post(gateway.base_url + path, json=payload) as resp:
            return resp.status, dict(resp.headers), await resp.read()
    finally:
        await gateway.close()
        await upstream.close()
