"""One ChatGPT login and what the gateway knows of its state."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from gptgate.accounts import jwt
from gptgate.types import JSONObject


@dataclass(slots=True)
class QuotaWindow:
    used_percent: float
    window_minutes: int | None = None
    resets_at: float | None = None


@dataclass(slots=True)
class Quota:
    """The latest rate-limit snapshot from ``x-codex-*`` headers or a usage-limit answer."""

    primary: QuotaWindow | None = None
    secondary: QuotaWindow | None = None
    plan_type: str | None = None
    updated_at: float = 0.0


@dataclass(slots=True)
class Account:
    """The runtime view of one login. ``id`` is the store's id (``cfg-N`` for accounts that come
    from settings and are not stored); ``status`` other than ``active`` keeps it out of rotation."""

    access_token: str
    account_id: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    plan: str | None = None
    email: str | None = None
    expires_at: float | None = None
    name: str = "default"
    quota: Quota = field(default_factory=Quota)
    cooldown_until: float = 0.0
    cooldown_reason: str | None = None
    in_flight: int = 0
    id: str = ""
    status: str = "active"
    status_reason: str | None = None
    proxy: str | None = None
    token_version: int = 0
    last_refresh_at: float | None = None
    stored: bool = False
    session_token: str | None = None
    #: the upstreams this login may serve (``codex``, ``chatgpt_web``); None: every one
    upstreams: frozenset[str] | None = None
    #: consecutive refused tokens (probation, see ``pool.py``); reset by a success
    strikes: int = 0

    def __post_init__(self) -> None:
        if not self.id:
            self.id = "cfg-" + (self.account_id or self.name)

    def __repr__(self) -> str:  # never a token, even in a traceback
        return f"Account(id={self.id!r}, name={self.name!r}, status={self.status!r})"

    def adopt_tokens(
        self,
        access_token: str,
        refresh_token: str | None,
        id_token: str | None,
        expires_at: float | None,
        token_version: int,
        refreshed_at: float | None,
    ) -> None:
        """Take newer tokens (from a refresh here or in another process); claims are re-read."""
        fresh = Account.from_tokens(access_token, account_id=self.account_id, id_token=id_token)
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.id_token = id_token
        self.expires_at = expires_at if expires_at is not None else fresh.expires_at
        self.plan = fresh.plan or self.plan
        self.email = self.email or fresh.email
        self.token_version = token_version
        self.last_refresh_at = refreshed_at

    def serves(self, upstream: str | None) -> bool:
        """May this login serve ``upstream`` (None: any)?"""
        return upstream is None or self.upstreams is None or upstream in self.upstreams

    @property
    def usable(self) -> bool:
        return self.status == "active" and bool(self.access_token or self.refresh_token or self.session_token)

    @classmethod
    def from_tokens(
        cls,
        access_token: str,
        *,
        account_id: str | None = None,
        refresh_token: str | None = None,
        id_token: str | None = None,
        name: str = "default",
    ) -> Account:
        """Fill plan, account id, e-mail and expiry from the token's claims."""
        c = jwt.claims(access_token)
        ic = jwt.claims(id_token) if id_token else {}
        auth = c.get(jwt.AUTH_CLAIM) or ic.get(jwt.AUTH_CLAIM) or {}
        profile = c.get(jwt.PROFILE_CLAIM) or {}
        exp = c.get("exp")
        return cls(
            access_token=access_token,
            account_id=account_id or auth.get("chatgpt_account_id"),
            refresh_token=refresh_token,
            id_token=id_token,
            plan=auth.get("chatgpt_plan_type"),
            email=profile.get("email") or c.get("email") or ic.get("email"),
            expires_at=float(exp) if isinstance(exp, int | float) else None,
            name=name,
        )

    @classmethod
    def from_auth_json(cls, path: Path, name: str | None = None) -> Account:
        """Codex CLI's ``~/.codex/auth.json`` (``tokens.access_token`` etc.)."""
        data: JSONObject = orjson.loads(path.read_bytes())
        tokens = data.get("tokens") or {}
        access = tokens.get("access_token")
        if not isinstance(access, str) or not access:
            raise ValueError(f"{path}: no tokens.access_token (is this a ChatGPT-login auth.json?)")
        return cls.from_tokens(
            access,
            account_id=tokens.get("account_id"),
            refresh_token=tokens.get("refresh_token"),
            id_token=tokens.get("id_token"),
            name=name or path.stem,
        )

    def cooling(self, now: float | None = None) -> bool:
        return self.cooldown_until > (now if now is not None else time.time())

    def label(self) -> str:
        """How the account appears in logs: never a token."""
        return self.email or self.account_id or self.name
