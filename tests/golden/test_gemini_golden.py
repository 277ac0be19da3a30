"""Every Codex fixture, replayed byte for byte by a fake upstream, through the Gemini door.

Three replies per fixture: ``generateContent``, ``streamGenerateContent?alt=sse`` and the
streamed JSON array (no ``alt``). Wire out is compared with the reviewed files
``expected/gemini_*.txt`` (``responseId`` normalised). Regenerate them with
``GPTGATE_REGEN_GOLDEN=1 pytest tests/golden/test_gemini_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import aiohttp
import orjson
import pytest

from gptgate.protocols.gemini import signature
from tests.support import fixture_path, replay, start_gateway, start_raw_upstream

EXPECTED = Path(__file__).parent / "expected"
SSE_FIXTURES = [
    "text.constructed.sse",
    "reasoning-text.constructed.sse",
    "function-call.constructed.sse",
    "response-failed.real-payload.sse",
    "stream-cut-no-terminal.constructed.sse",
]
REQUEST = {
    "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
    "tools": [{"functionDeclarations": [{"name": "exec_command", "parameters": {"type": "OBJECT"}}]}],
    "generationConfig": {"thinkingConfig": {"includeThoughts": True}},
}
MODES = {
    "json": "/v1beta/models/gemini-2.5-pro:generateContent",
    "sse": "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
    "array": "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
}


def normalise(body: bytes) -> str:
    """Ids normalised; the SSE framing's CRLF written out (``\\r\\n``) so the file shows it."""
    text = re.sub(r'"responseId":"[0-9a-f]{24}"', '"responseId":"ID"', body.decode())
    return text.replace("\r\n", "\\r\\n\n")


def check_golden(name: str, actual: str) -> None:
    path = EXPECTED / name
    if os.environ.get("GPTGATE_REGEN_GOLDEN"):
        path.write_text(actual)
    assert path.exists(), f"no golden file {path}; run with GPTGATE_REGEN_GOLDEN=1 and review it"
    assert actual == path.read_text()


async def _exchange(fixture: str, path: str) -> tuple[int, dict[str, str], bytes]:
    upstream = await start_raw_upstream(replay(fixture_path("codex", fixture).read_bytes()))
    gateway = await start_gateway(upstream.base_url)
    try:
        async with aiohttp.ClientSession() as http, http.post(gateway.base_url + path, json=REQUEST) as resp:
            return resp.status, dict(resp.headers), await resp.read()
    finally:
        await gateway.close()
        await upstream.close()


@pytest.mark.parametrize("fixture", SSE_FIXTURES)
@pytest.mark.parametrize("mode", list(MODES))
async def test_gemini_golden(fixture: str, mode: str) -> None:
    status, headers, body = await _exchange(fixture, MODES[mode])
    golden = f"gemini_{fixture.split('.')[0]}.{mode}.txt"
    check_golden(golden, f"HTTP {status} {headers['Content-Type'].split(';')[0]}\n{normalise(body)}")


async def test_reasoning_signature_carries_the_fixture_blob() -> None:
    raw = fixture_path("codex", "reasoning-text.constructed.sse").read_bytes()
    blob = orjson.loads(raw.split(b"data: ")[9].split(b"\n")[0])["item"]["encrypted_content"]
    _, _, body = await _exchange("reasoning-text.constructed.sse", MODES["json"])
    parts = orjson.loads(body)["candidates"][0]["content"]["parts"]
    assert [p.get("thought", False) for p in parts] == [True, False]
    assert signature.decode(parts[1]["thoughtSignature"]) == blob
