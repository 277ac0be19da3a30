"""Identifiers the upstream limits: tool names and call ids (64 characters, a safe alphabet).

Claude Code's MCP tools (``mcp__server__tool``) and some clients' call ids exceed what the
Responses upstream accepts. A long name is shortened with a hash suffix, deterministically, so
the same name always maps to the same short one; a door keeps a :class:`NameMap` for the
request to give clients back the names they sent.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

LIMIT: Final = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def short_name(name: str, limit: int = LIMIT) -> str:
    """``name`` itself when it fits, else its head plus ``_`` and an 8-hex hash of the whole."""
    if len(name) <= limit:
        return name
    return name[: limit - 9] + "_" + _digest(name)


def safe_id(call_id: str, limit: int = LIMIT) -> str:
    """A call id in ``[A-Za-z0-9_-]`` within ``limit`` (Anthropic's and the upstream's rules)."""
    clean = _UNSAFE.sub("_", call_id)
    if clean != call_id or len(clean) > limit:
        clean = clean[: limit - 9] + "_" + _digest(call_id)
    return clean


class NameMap:
    """Tool names as sent upstream -> the names the client declared."""

    __slots__ = ("_back",)

    def __init__(self) -> None:
        self._back: dict[str, str] = {}

    def upstream(self, name: str) -> str:
        short = short_name(name)
        if short != name:
            self._back[short] = name
        return short

    def client(self, name: str) -> str:
        return self._back.get(name, name)

    def __bool__(self) -> bool:
        return bool(self._back)
