"""Every Codex fixture, replayed byte for byte by a fake upstream, through the Gemini door.

Three replies per fixture: ``generateContent``, ``streamGenerateContent?alt=sse`` and the
streamed JSON array (no ``alt``). Wire out is compared with the reviewed files
``expected/gemini_*.txt`` (``responseId`` normalised). Regenerate them with
``GPTGATE_REGEN_GOLDEN=1 pytest tests/golden/test_gemini_golden.py`` and review the diff.
"""

from __future__ import annotations

import re

import orjson
import pytest

from gptgate.protocols.gemini import signature
from tests.golden.support import SSE_FIXTURES, check_golden, exchange
from tests.support import fixture_path

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


@pytest.mark.parametrize("fixture", SSE_FIXTURES)
@pytest.mark.parametrize("mode", list(MODES))
async def test_gemini_golden(fixture: str, mode: str) -> None:
    status, headers, body = await exchange(fixture, MODES[mode], REQUEST)
    golden = f"gemini_{fixture.split('.')[0]}.{mode}.txt"
    check_golden(golden, f"HTTP {status} {headers['Content-Type'].split(';')[0]}\n{normalise(body)}")


async def test_reasoning_signature_carries_the_fixture_blob() -> None:
    raw = fixture_path("codex", "reasoning-text.constructed.sse").read_bytes()
    blob = orjson.loads(raw.split(b"data: ")[9].split(b"\n")[0])["item"]["encrypted_content"]
    _, _, body = await exchange("reasoning-text.constructed.sse", MODES["json"], REQUEST)
    parts = orjson.loads(body)["candidates"][0]["content"]["parts"]
    assert [p.get("thought", False) for p in parts] == [True, False]
    assert signature.decode(parts[1]["thoughtSignature"]) == blob
