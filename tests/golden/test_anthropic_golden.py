"""Every Codex fixture, replayed byte for byte by a fake upstream, through ``POST /v1/messages``.

Wire out is compared with the reviewed files ``expected/anthropic_*`` (message and request ids
normalised). Regenerate them with ``GPTGATE_REGEN_GOLDEN=1 pytest tests/golden`` and review the
diff: a change there is a change of what Anthropic clients receive.
"""

from __future__ import annotations

import re

import pytest

from tests.golden.support import SSE_FIXTURES, check_golden, exchange
from tests.protocols.anthropic.wire import check_stream

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


@pytest.mark.parametrize("fixture", SSE_FIXTURES)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
async def test_anthropic_golden(fixture: str, stream: bool) -> None:
    status, headers, body = await exchange(fixture, "/v1/messages", {**MESSAGES, "stream": stream})
    content_type, request_id = headers["Content-Type"].split(";")[0], headers["request-id"]
    if stream and status == 200:
        check_stream(body)  # invariant §8.2 holds on every replay
        if b"event: error" in body:
            assert request_id.encode() in body  # the in-band error names the request
    golden = f"anthropic_{fixture.split('.')[0]}.{'stream' if stream else 'json'}.txt"
    check_golden(golden, f"HTTP {status} {content_type}\n{normalise(body.decode())}")
