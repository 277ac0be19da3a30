"""Anthropic Messages requests the gateway refuses: every one a 4xx naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from gptgate.errors import RequestError, UnsupportedFeature
from gptgate.protocols.anthropic.decode import decode
from tests.protocols.anthropic.test_decode import assistant, body, msg, run, t, user


def test_count_tokens_body_needs_no_max_tokens() -> None:
    data = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}
    assert decode(data, {}, count_only=True).req.input == [msg("user", t("hi"))]
    with pytest.raises(RequestError) as info:
        decode(data, {})
    assert info.value.param == "max_tokens"


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"max_tokens": 5, "messages": []}, "model"),
        ({"model": "m", "max_tokens": 5}, "messages"),
        ({"model": "m", "max_tokens": "5", "messages": []}, "max_tokens"),
        ({"model": "m", "max_tokens": 0, "messages": []}, "max_tokens"),
        (body({"role": "tool", "content": "x"}), "messages[0].role"),
        (body({"role": "user", "content": 5}), "messages[0].content"),
        (body(user("text")), "messages[0].content[0]"),
        (body(user({"type": "audio", "data": "x"})), "messages[0].content[0].type"),
        (body(user({"type": "text"})), "messages[0].content[0].text"),
        (
            body(
                user({"type": "image", "source": {"type": "base64", "media_type": "text/html", "data": "x"}})
            ),
            "messages[0].content[0].source.media_type",
        ),
        (
            body(user({"type": "image", "source": {"type": "ftp", "url": "x"}})),
            "messages[0].content[0].source.type",
        ),
        (body(user({"type": "image"})), "messages[0].content[0].source"),
        (
            body(assistant({"type": "image", "source": {"type": "url", "url": "u"}})),
            "messages[0].content[0].type",
        ),
        (
            body(assistant({"type": "tool_use", "id": "x", "name": "f", "input": "[]"})),
            "messages[0].content[0].input",
        ),
        (body(user({"type": "tool_result", "content": "x"})), "messages[0].content[0].tool_use_id"),
        (
            body(user({"type": "tool_result", "tool_use_id": "x", "content": [{"type": "video"}]})),
            "messages[0].content[0].content[0].type",
        ),
        (body({"role": "user", "content": "x"}, system=[{"type": "image"}]), "system[0].type"),
        (body({"role": "user", "content": "x"}, tool_choice={"type": "sometimes"}), "tool_choice.type"),
        (body({"role": "user", "content": "x"}, tool_choice={"type": "tool"}), "tool_choice.name"),
        (body({"role": "user", "content": "x"}, thinking={"type": "enabled"}), "thinking.budget_tokens"),
        (body({"role": "user", "content": "x"}, thinking={"type": "maybe"}), "thinking.type"),
        (body({"role": "user", "content": "x"}, output_config={"effort": "huge"}), "output_config.effort"),
        (body({"role": "user", "content": "x"}, tools=[{"name": "f"}]), "tools[0].input_schema"),
        (
            body({"role": "user", "content": "x"}, tools=[{"type": "widget_2025", "name": "w"}]),
            "tools[0].type",
        ),
    ],
)
def test_bad_input_names_the_field(data: dict[str, Any], param: str) -> None:
    with pytest.raises(RequestError) as info:
        run(data)
    assert info.value.param == param
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("data", "param"),
    [
        (
            body({"role": "user", "content": "x"}, tools=[{"type": "bash_20250124", "name": "bash"}]),
            "tools[0].type",
        ),
        (
            body(user({"type": "image", "source": {"type": "file", "file_id": "f"}})),
            "messages[0].content[0].source.type",
        ),
        (body({"role": "user", "content": "x"}, mcp_servers=[{"type": "url", "url": "u"}]), "mcp_servers"),
    ],
)
def test_unservable_features_are_clear_400s(data: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedFeature) as info:
        run(data)
    assert info.value.param == param
    assert "bash" in info.value.message or param != "tools[0].type"
