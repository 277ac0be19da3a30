"""A client API key as the gateway sees it at run time: who it is and what it may do.

The secret itself is never kept: the store holds its SHA-256 and this object holds the
short, non-secret ``id`` (``key_…``) and the display ``prefix`` (``gg-…`` and a few characters).
``KeyLimits`` has one JSON form, used by the store's ``limits`` column, the admin API and the
CLI alike (:meth:`KeyLimits.from_json` validates it, :meth:`KeyLimits.to_json` writes it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace
from typing import Any

#: reasoning efforts, lowest first (``max_effort`` clamps a request down this ladder)
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
COUNT_LIMITS = ("rpm", "tpm", "concurrency", "daily_tokens", "weekly_tokens", "monthly_tokens")


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

    @classmethod
    def from_json(cls, data: dict[str, Any], base: KeyLimits | None = None) -> KeyLimits:
        """Limits from their JSON form; fields left out keep ``base``'s (default: none).
        Raises ValueError naming the field that is wrong."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown limit {sorted(unknown)[0]!r}")
        changes: dict[str, Any] = {}
        for name, value in data.items():
            if name in ("models", "upstreams"):
                changes[name] = _names(name, value)
            elif name in COUNT_LIMITS:
                changes[name] = _count(name, value)
            elif name == "max_effort":
                if value is not None and value not in EFFORTS:
                    raise ValueError(f"max_effort must be one of {', '.join(EFFORTS)}")
                changes[name] = value
            elif name == "see_quota":
                if not isinstance(value, bool):
                    raise ValueError("see_quota must be true or false")
                changes[name] = value
        return replace(base or cls(), **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "models": list(self.models),
            **{name: getattr(self, name) for name in COUNT_LIMITS},
            "upstreams": list(self.upstreams),
            "max_effort": self.max_effort,
            "see_quota": self.see_quota,
        }

    def describe(self) -> str:
        """One line for the CLI: only the limits that are set."""
        parts = [f"models={','.join(self.models)}"] if self.models else []
        parts += [f"{name}={getattr(self, name)}" for name in COUNT_LIMITS if getattr(self, name) is not None]
        if self.upstreams:
            parts.append(f"upstreams={','.join(self.upstreams)}")
        if self.max_effort:
            parts.append(f"max_effort={self.max_effort}")
        if self.see_quota:
            parts.append("see_quota")
        return " ".join(parts) or "none"


def _names(name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of names")
    return tuple(v.strip() for v in value if v.strip())


def _count(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of at least 0 (or null for no limit)")
    return value


@dataclass(frozen=True, slots=True)
class ClientKey:
    id: str
    name: str
    prefix: str
    limits: KeyLimits = KeyLimits()
    expires_at: float | None = None
    revoked_at: float | None = None

    def refusal(self, now: float | None = None) -> str | None:
        """Why this key may not be used (revoked, expired), None when it may."""
        if self.revoked_at is not None:
            return f"This API key ({self.prefix}...) was revoked."
        if self.expires_at is not None and self.expires_at <= (time.time() if now is None else now):
            return f"This API key ({self.prefix}...) has expired."
        return None


@dataclass(slots=True, kw_only=True)
class KeyRecord:
    """A stored key (never its secret, nor the secret's hash)."""

    id: str
    name: str
    prefix: str
    limits: KeyLimits = field(default_factory=KeyLimits)
    note: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    expires_at: float | None = None
    revoked_at: float | None = None
    last_used_at: float | None = None

    def client_key(self) -> ClientKey:
        return ClientKey(self.id, self.name, self.prefix, self.limits, self.expires_at, self.revoked_at)

    def public(self) -> dict[str, Any]:
        """The JSON form the admin API and ``gptgate keys list --json`` show."""
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "note": self.note,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "last_used_at": self.last_used_at,
            "limits": self.limits.to_json(),
        }
