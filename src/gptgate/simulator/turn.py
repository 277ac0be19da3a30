"""The parts of a validated turn request that shape the reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gptgate.simulator.faults import parse_directives
from gptgate.simulator.state import Fault

TOOL_OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output"})
SUMMARY_MODES = frozenset({"auto", "concise", "detailed"})


@dataclass(slots=True)
class Turn:
    body: dict[str, Any]
    model: str
    input_tokens: int
    user_text: str = ""
    tool_output: str | None = None
    directives: list[Fault] = field(default_factory=list)

    @property
    def reasoning(self) -> dict[str, Any] | None:
        value = self.body.get("reasoning")
        return value if isinstance(value, dict) else None

    @property
    def wants_summary(self) -> bool:
        reasoning = self.reasoning
        return reasoning is not None and reasoning.get("summary") in SUMMARY_MODES

    @property
    def include_encrypted(self) -> bool:
        include = self.body.get("include")
        return isinstance(include, list) and "reasoning.encrypted_content" in include

    @property
    def prompt_cache_key(self) -> str | None:
        key = self.body.get("prompt_cache_key")
        return key if isinstance(key, str) else None

    @property
    def text_format(self) -> dict[str, Any]:
        text = self.body.get("text")
        fmt = text.get("format") if isinstance(text, dict) else None
        return fmt if isinstance(fmt, dict) else {"type": "text"}


def content_text(content: Any) -> str:
    """The text of a message ``content`` (a string or a list of text parts)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [p.get("text") for p in content if isinstance(p, dict)]
    return "".join(p for p in parts if isinstance(p, str))


def _is_user_message(item: dict[str, Any]) -> bool:
    return item.get("role") == "user" and item.get("type", "message") == "message"


def read_turn(body: dict[str, Any], body_size: int) -> Turn:
    """Find the last user message (its text and directives) and any tool output after it."""
    turn = Turn(body, body["model"], max(1, body_size // 4))
    for item in reversed(body["input"]):
        if item.get("type") in TOOL_OUTPUT_TYPES:
            if turn.tool_output is None:
                turn.tool_output = content_text(item.get("output"))
        elif _is_user_message(item):
            turn.user_text, turn.directives = parse_directives(content_text(item.get("content")))
            break
    return turn
