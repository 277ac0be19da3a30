"""Every web fixture (``fixtures/web``), replayed byte for byte as the web backend's answer,
through Chat Completions, Anthropic Messages and Gemini, streamed and not.

Wire out is compared with the reviewed files ``expected/web_*`` (ids and timestamps normalised);
each fixture's stated result (fixtures/web/README.md) is also asserted on the folded answers, so
a regenerated golden file cannot quietly lose it. Regenerate with
``GPTGATE_REGEN_GOLDEN=1 pytest tests/golden/test_web_golden.py`` and review the diff.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from tests.golden.support import WEB_FIXTURES, check_golden, exchange_web

MODEL = "gpt-4o"  # a web model: served by the web upstream on the plain /v1 paths
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {
    "model": MODEL,
    "max_tokens": 1024,
    "thinking": {"type": "adaptive"},
    "messages": [{"role": "user", "content": "hi"}],
}
GEMINI = {
    "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
    "generationConfig": {"thinkingConfig": {"includeThoughts": True}},
}
GEMINI_PATHS = {
    "json": f"/v1beta/models/{MODEL}:generateContent",
    "sse": f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
}
#: each fixture's stated answer text (fixtures/web/README.md) and reasoning, if any
STATED = {
    "delta-v1-text": ("Hello there, how are you?", None),
    "delta-v1-reasoning": (  # the thought's summary heads its content
        "17 × 23 = **391**.",
        "**Checking the arithmetic**\n\n17 times 20 is 340, plus 17 times 3 is 51, total 391.",
    ),
    "old-format-snapshots": (
        "明白了！我们可以从获取你的环境信息开始，以便更好地适应你的系统。"
        "首先，我将编写一段Python代码来获取操作系统信息和Python环境信息。\n\n",
        None,
    ),
    "old-format-tool-turn": ("17 × 23 = **391**.", None),
}


def normalise(body: bytes) -> str:
    text = body.decode()
    text = re.sub(r"chatcmpl-[0-9a-f]{24}", "chatcmpl-ID", text)
    text = re.sub(r'"created":\d+', '"created":0', text)
    text = re.sub(r"msg_[0-9a-f]{24}", "msg_ID", text)
    text = re.sub(r"req_[0-9a-f]{24}", "req_ID", text)
    text = re.sub(r'"responseId":"[0-9a-f]{24}"', '"responseId":"ID"', text)
    text = re.sub(r"gg1\.[A-Za-z0-9_-]+", "gg1.SIGNATURE", text)  # wraps a per-answer reasoning id
    return text.replace("\r\n", "\\r\\n\n")


def golden(door: str, fixture: str, mode: str, status: int, headers: dict[str, str], body: bytes) -> None:
    content_type = headers["Content-Type"].split(";")[0]
    check_golden(
        f"web_{door}_{fixture.split('.')[0]}.{mode}.txt", f"HTTP {status} {content_type}\n{normalise(body)}"
    )


def stated(fixture: str) -> tuple[str, str | None]:
    return STATED[fixture.split(".")[0]]


def ends_with(answer: str, text: str) -> bool:
    """The stated text is the answer, or ends it (a tool turn's code and output may come first)."""
    return answer == text or answer.endswith("\n\n" + text) or answer.endswith("\n" + text)


@pytest.mark.parametrize("fixture", WEB_FIXTURES)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
async def test_chat_completions(fixture: str, stream: bool) -> None:
    status, headers, body = await exchange_web(fixture, "/v1/chat/completions", {**CHAT, "stream": stream})
    assert status == 200
    golden("chat", fixture, "stream" if stream else "json", status, headers, body)
    if not stream:
        message = orjson.loads(body)["choices"][0]["message"]
        text, reasoning = stated(fixture)
        assert ends_with(message["content"], text)
        assert message.get("reasoning_content") == reasoning


@pytest.mark.parametrize("fixture", WEB_FIXTURES)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
async def test_anthropic_messages(fixture: str, stream: bool) -> None:
    status, headers, body = await exchange_web(fixture, "/v1/messages", {**MESSAGES, "stream": stream})
    assert status == 200
    golden("anthropic", fixture, "stream" if stream else "json", status, headers, body)
    if not stream:
        blocks: list[dict[str, Any]] = orjson.loads(body)["content"]
        text, reasoning = stated(fixture)
        assert ends_with("".join(b["text"] for b in blocks if b["type"] == "text"), text)
        thinking = [b["thinking"] for b in blocks if b["type"] == "thinking"]
        assert thinking == ([reasoning] if reasoning else [])


@pytest.mark.parametrize("fixture", WEB_FIXTURES)
@pytest.mark.parametrize("mode", list(GEMINI_PATHS))
async def test_gemini(fixture: str, mode: str) -> None:
    status, headers, body = await exchange_web(fixture, GEMINI_PATHS[mode], GEMINI)
    assert status == 200
    golden("gemini", fixture, mode, status, headers, body)
    if mode == "json":
        parts: list[dict[str, Any]] = orjson.loads(body)["candidates"][0]["content"]["parts"]
        text, reasoning = stated(fixture)
        assert ends_with("".join(p["text"] for p in parts if not p.get("thought")), text)
        assert [p["text"] for p in parts if p.get("thought")] == ([reasoning] if reasoning else [])
