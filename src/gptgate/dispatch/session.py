"""Derived session keys: a conversation without one of its own still keeps its cache warm.

Codex clients send ``prompt_cache_key`` and Claude Code its session header; Gemini clients and
plain chat clients send nothing. Without a key the pool spreads a conversation's turns over
accounts and the upstream cannot route them to one prompt-cache shard, so every turn pays for
its whole history again. Such clients resend the conversation from its opening every turn, so
the opening names the conversation: a short hash of (client key id or ``anon``, upstream model,
instructions, the first user message) is the same on every later turn and differs between
conversations and between clients.

The derived key becomes the request's ``prompt_cache_key`` (and so the upstream's
``session_id`` header) for translated doors. A Responses client's request is forwarded as sent:
there the key only keeps the turns on one account (pool stickiness), it never reaches the wire.
"""

from __future__ import annotations

import hashlib

import orjson

from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext
from gptgate.types import JSONObject

#: hex digits of the derived key (96 bits: no collisions between conversations in practice)
LENGTH = 24


def derive_session(request: CanonicalRequest, key_id: str | None) -> str:
    """The conversation's derived key: stable over its turns, different across keys and openings."""
    parts = (key_id or "anon", request.model, request.instructions or "", _opening(request.input), "")
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:LENGTH]


def session_for(request: CanonicalRequest, call: CallContext) -> str:
    """The call's session: its own, the request's, or a derived one (set on the request too,
    except for the Responses door whose requests are forwarded as sent)."""
    # the request's ``session_key`` is its prompt_cache_key, read here without the property
    session = call.session or request.prompt_cache_key
    if session:
        return session
    key = call.key
    derived = derive_session(request, None if key is None else key.id)
    if request.origin != "responses":
        request.prompt_cache_key = derived
    return derived


def _opening(items: list[JSONObject]) -> str:
    """The text of the first user message (its content serialized when it has no text)."""
    for item in items:
        if item.get("role") != "user":
            continue
        content = item.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            if len(content) == 1:  # the usual message: one part, its text as the join has it
                part = content[0]
                if isinstance(part, dict) and isinstance(text := part.get("text"), str):
                    return text
            texts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
            if texts:
                return "\n".join(texts)
        return orjson.dumps(content, option=orjson.OPT_SORT_KEYS).decode()
    return ""
