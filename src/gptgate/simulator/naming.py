"""The tool the user's message names, and the command or path it quotes.

The demo's agents (Claude Code, Codex, an SDK loop) are asked things like "run `ls` with the Bash
tool" or "use read_file on 'README.md'": the simulated model then calls that tool, with the
quoted command or path in the tool's obvious string argument, so the agent does what it was
asked instead of whatever tool comes first in its list.

A name counts when the message names it *as a tool*, case-insensitively: "the Bash tool",
"Bash tool", "use / using / with / call / via / invoke Bash", or `` `Bash` ``. A name with an
underscore, a dot or a digit (``read_file``, ``exec_command``) is an identifier nobody writes in
prose, so any whole-word mention counts. Plain words stay plain: "read the file" does not name
Claude Code's ``Read``. Text inside ``<system-reminder>`` blocks (which Claude Code adds to user
messages and which mention tools of their own) is not the user's.
"""

from __future__ import annotations

import re
from typing import Any

REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.DOTALL | re.IGNORECASE)
VERBS = r"(?:use|using|with|call|calling|via|invoke|run)"
QUOTED = (
    re.compile(r"`([^`\n]+)`"),
    re.compile(r"\"([^\"\n]+)\""),
    re.compile(r"[“]([^”\n]+)[”]"),
    re.compile(r"(?<!\w)'([^'\n]+)'(?!\w)"),
)
#: the string arguments a quoted value goes into, most obvious first
COMMAND_ARGS = ("command", "cmd", "script", "code")
PATH_ARGS = ("file_path", "path", "filepath", "filename", "file", "notebook_path", "directory", "dir")
OTHER_ARGS = ("pattern", "query", "url", "input", "text", "prompt")
TARGET_ARGS = COMMAND_ARGS + PATH_ARGS + OTHER_ARGS


def user_words(text: str) -> str:
    """The message without Claude Code's ``<system-reminder>`` blocks."""
    return REMINDER.sub(" ", text)


def _identifier(name: str) -> bool:
    return any(c in name for c in "_.") or any(c.isdigit() for c in name)


def _mention(name: str, text: str) -> int | None:
    """Where ``text`` names tool ``name`` (the earliest place), or None."""
    word = re.escape(name)
    edge_l, edge_r = r"(?<![\w-])", r"(?![\w-])"
    patterns = [
        rf"`{word}`",
        rf"{edge_l}{word}\s+tool\b",
        rf"\b{VERBS}\s+(?:the\s+)?{word}{edge_r}",
    ]
    if _identifier(name):
        patterns.append(rf"{edge_l}{word}{edge_r}")
    found = [m.start() for p in patterns if (m := re.search(p, text, re.IGNORECASE))]
    return min(found) if found else None


def named_index(names: list[str], text: str) -> int | None:
    """The index in ``names`` of the tool the message names first (offer order breaks ties)."""
    words = user_words(text)
    best: tuple[int, int] | None = None
    for index, name in enumerate(names):
        at = _mention(name, words) if name else None
        if at is not None and (best is None or at < best[0]):
            best = (at, index)
    return None if best is None else best[1]


def quoted_value(text: str, name: str) -> str | None:
    """The command or path the message quotes (backticks first, then quotes; the tool's own
    name in backticks is not one), else the unquoted command of "run X with the NAME tool"."""
    words = user_words(text)
    for pattern in QUOTED:
        for match in pattern.finditer(words):
            value = match.group(1).strip()
            if value and value.lower() != name.lower():
                return value
    verb = re.search(
        rf"\brun\s+(.+?)\s+(?:with|using|via|in)\s+(?:the\s+)?{re.escape(name)}\b", words, re.IGNORECASE
    )
    return verb.group(1).strip() if verb else None


def target_argument(schema: Any) -> tuple[str, Any] | None:
    """The obvious string argument of a tool's parameter schema, and its schema."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return None
    lowered = {str(k).lower(): k for k in properties}
    for wanted in TARGET_ARGS:
        if wanted in lowered:
            key = lowered[wanted]
            return key, properties[key]
    return None


def fill_argument(arguments: Any, schema: Any, value: str) -> Any:
    """``arguments`` with ``value`` in the obvious string argument (a command list for an array
    ``command``, as Codex's ``shell`` takes it); unchanged when the schema has none."""
    target = target_argument(schema)
    if target is None or not isinstance(arguments, dict):
        return arguments
    key, prop = target
    kind = prop.get("type") if isinstance(prop, dict) else None
    if kind == "array" or (isinstance(kind, list) and "array" in kind and "string" not in kind):
        filled: Any = ["bash", "-lc", value] if str(key).lower() in COMMAND_ARGS else [value]
    else:
        filled = value
    return {**arguments, key: filled}
