"""What the Codex-native tests share about the captures: the account Codex named, its headers."""

from __future__ import annotations

#: the ``chatgpt-account-id`` in every ``codex_chatgpt_*`` capture (the fake login's)
CAPTURE_ACCOUNT = "11111111-2222-3333-4444-555555555555"
#: set by the client library per connection, not by Codex
HOP_BY_HOP = frozenset({"host", "content-length", "connection", "upgrade"})


def replay_headers(captured: list[list[str]], key: str) -> list[tuple[str, str]]:
    """Codex's headers in its order, the client key where its ChatGPT token was."""
    out: list[tuple[str, str]] = []
    for name, value in captured:
        if name.lower() in HOP_BY_HOP:
            continue
        out.append((name, f"Bearer {key}" if name.lower() == "authorization" else value))
    return out
