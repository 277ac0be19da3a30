"""Every Codex fixture, replayed byte for byte by a fake upstream, through ``POST /v1/messages``.

Wire out is compared with the reviewed files ``expected/anthropic_*`` (message and request ids
normalised). Regenerate them with ``GPTGATE_REGEN_GOLDEN=1 pytest tests/golden`` and review the
diff: a change there is a change of what Anthropic clients receive.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import aiohttp
import pytest

from tests.protocols.anthropic.wire import check_stream
from tests.support import fixture_path, replay, start_gateway, start_raw_upstream

EXPECTED = Path(__file__).parent / "expected"
SSE_FIXTURES = [
    "text.constructed.sse",
    "reasoning-text.constructed.sse",
    "function-call.constructed.sse",
    "response-failed.real-payload.sse",
    "stream-cut-no-terminal.constructed.sse",
]
#: What Claude Code sends, in small: thinking on, so reasoning items become thinking blocks.
MESSAGES = {
    "model": "claude-opus-4-8",
    "max_tokens": 1024,
    "thinking": {"type": "adaptive"},
    "messages": [{"role": "user", "content": "hi"}],
}


def normalise(text: str) -> str:
    text = re.sub(r"msg_[0-9a-f]{24}", "msg_ID", text)
    return re.sub(r"req_[0-9a-f]{24}", "req_ID", text)


def check_golden(name: str, actual: str) -> None:
    path = EXPECTED / name
    if os.environ.get("GPTGATE_REGEN_GOLDEN"):
        path.write_text(actual)
    assert path.exists(), f"no golden file {path}; run with GPTGATE_REGEN_GOLDEN=1 and review it"
    assert actual == path.read_text()


async def _exchange(fixture: str, stream: bool) -> tuple[int, str, str, bytes]:
    upstream = await start_raw_upstream(replay(fixture_path("codex", fixture).read_bytes()))
    gateway = await start_gateway(upstream.base_url)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(gateway.base_url + "/v1/messages", json={**MESSAGES, "stream": stream}) as resp,
        ):
            content_type = resp.headers["Content-Type"].split(";")[0]
            return resp.status, content_type, resp.headers["request-id"], await resp.read()
    finally:
        await gateway.close()
        await upstream.close()


@pytest.mark.parametrize("fixture", SSE_FIXTURES)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
async def test_anthropic_golden(fixture: str, stream: bool) -> None:
    status, content_type, request_id, body = await _exchange(fixture, stream)
    if stream and status == 200:
        check_stream(body)  # invariant §8.2 holds on every replay
        if b"event: error" in body:
            assert request_id.encode() in body  # the in-band error names the request
    golden = f"anthropic_{fixture.split('.')[0]}.{'stream' if stream else 'json'}.txt"
    check_golden(golden, f"HTTP {status} {content_type}\n{normalise(body.decode())}")
