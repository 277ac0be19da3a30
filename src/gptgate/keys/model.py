"""A client API key as the gateway sees it at run time: who it is and what it may do.

The secret itself is never kept: the store holds its SHA-256 and this object holds the
short, non-secret ``id`` (``key_…``) and the display ``prefix`` (``gg-…`` and a few characters).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyLimits:
    """What one key may do; ``None`` or empty means unlimited / everything."""

    #: model names or globs the key may call (``gpt-5.*``, ``claude-*``), matched against the
    #: name the client sent and the upstream model it resolved to
    models: tuple[str, ...] = ()
    rpm: int | None = None
    tpm: int | None = None
    concurrency: int | None = None
    daily_tokens: int | None = None
    weekly_tokens: int | None = None
    monthly_tokens: int | None = None
    upstreams: tuple[str, ...] = ()
    max_effort: str | None = None
    #: whether the holder may see the pool's quota figures (never account ids or tokens)
    see_quota: bool = False


@dataclass(frozen=True, slots=True)
class ClientKey:
    id: str
    name: str
    prefix: str
    limits: KeyLimits = KeyLimits()
    expires_at: float | None = None
    revoked_at: float | None = None
