"""Every Codex fixture, replayed byte for byte by a fake upstream, through both OpenAI doors.

Wire out is compared with the reviewed files in ``expected/`` (chat ids and timestamps
normalised). Regenerate them with ``GPTGATE_REGEN_GOLDEN=1 pytest tests/golden`` and review the
diff: a change there is a change of what clients receive.
"""

from __future__ import annotations

import re

import orjson
import pytest

from tests.golden.support import SSE_FIXTURES, check_golden, exchange
from tests.support import fixture_path

CHAT = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}
RESPONSES = {"model": "gpt-5.5", "input": "hi"}


def normalise(body: bytes) -> str:
    text = body.decode()
    text = re.sub(r"chatcmpl-[0-9a-f]{24}", "chatcmpl-ID", text)
    return re.sub(r'"created":\d+', '"created":0', text)


@pytest.mark.parametrize("fixture", SSE_FIXTURES)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
async def test_chat_golden(fixture: str, stream: bool) -> None:
    status, headers, body = await exchange(fixture, "/v1/chat/completions", {**CHAT, "stream": stream})
    golden = f"{fixture.split('.')[0]}.chat.{'stream' if stream else 'json'}.txt"
    check_golden(golden, f"HTTP {status} {headers['Content-Type'].split(';')[0]}\n{normalise(body)}")


@pytest.mark.parametrize("fixture", SSE_FIXTURES)
async def test_responses_stream_is_byte_faithful(fixture: str) -> None:
    raw = fixture_path("codex", fixture).read_bytes()
    status, _, body = await exchange(fixture, "/v1/responses", {**RESPONSES, "stream": True})
    if fixture.startswith("response-failed") and status != 200:
        # a failure before any content is answered with a status, not a stream (see the error tests)
        assert status == 400
        return
    assert status == 200
    if fixture.startswith("stream-cut"):
        assert body.startswith(raw)
        tail = body[len(raw) :]
        assert tail.startswith(b"event: response.failed\ndata: ")
        failed = orjson.loads(tail.split(b"data: ", 1)[1])
        assert failed["sequence_number"] == 5
        assert failed["response"]["error"]["code"] == "stream_disconnected"
        assert failed["response"]["id"] == "resp_6d7e8f9012345678a9b0c1d2e3f40516273849ab"
    else:
        assert body == raw


@pytest.mark.parametrize("fixture", SSE_FIXTURES)
async def test_responses_json_golden(fixture: str) -> None:
    status, headers, body = await exchange(fixture, "/v1/responses", RESPONSES)
    golden = f"{fixture.split('.')[0]}.responses.json.txt"
    check_golden(golden, f"HTTP {status} {headers['Content-Type'].split(';')[0]}\n{body.decode()}")
