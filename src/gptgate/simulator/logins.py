"""ChatGPT logins the simulator knows: identities, refresh and session tokens, call counters.

A login is created by ``seed`` (config ``accounts``, ``POST /_sim/accounts``) or when a refresh
or session token is seeded for an account id. Turns do not need one: any token the simulator
signed is served, its account's quota created on first sight.

Token lifecycle (the real service's behaviour where the protocol docs state it, our choice
where they do not):

* an access token works until its ``exp`` (simulated clock). A refresh does not revoke the
  access token it replaces (JWTs are not tracked, as with the real backend), so old and new
  work side by side until each expires;
* a refresh token works once (codex §5.1); spending it again answers ``refresh_token_reused``, a
  revoked one ``refresh_token_invalidated`` (or the code given when revoking, e.g.
  ``refresh_token_expired``), an unknown one ``refresh_token_invalidated``;
* a session token works until it expires; every exchange also sets a fresh session cookie and
  the old one keeps working until its own expiry (NextAuth JWT sessions; web §5.1);
* a deactivated account gets 401 ``account_deactivated`` from the backend and from the token
  endpoint, and ``{}`` (signed out) from the session endpoint.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.tokens import make_access_token, make_id_token

REFRESH_REUSED = "refresh_token_reused"
REFRESH_INVALIDATED = "refresh_token_invalidated"
DEAD_CODES = frozenset({REFRESH_INVALIDATED, "refresh_token_expired", REFRESH_REUSED})


@dataclass(slots=True)
class Login:
    """One ChatGPT account's identity."""

    account_id: str
    email: str
    plan: str
    user_id: str
    deactivated: bool = False


@dataclass(slots=True)
class RefreshToken:
    account_id: str
    rotated: bool = False
    dead_code: str | None = None


@dataclass(slots=True)
class SessionToken:
    account_id: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class Credentials:
    """Everything a client needs to use one seeded account."""

    account_id: str
    email: str
    plan: str
    access_token: str
    refresh_token: str
    id_token: str
    session_token: str

    def as_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass(slots=True)
class CallCounts:
    """Calls of one auth endpoint for one account, by outcome."""

    calls: int = 0
    ok: int = 0
    rejected: int = 0
    failed: int = 0  # a simulated outage, timeout or dropped reply (a dropped refresh is also ok)


Outcome = Literal["ok", "rejected", "failed"]
RotateResult = tuple[Literal["ok", "rejected"], Login | None, str]
UNKNOWN_ACCOUNT = "(unknown)"


def _hex(*parts: object) -> str:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).hexdigest()


class Logins:
    """The registry of logins and their tokens; ``now`` is the simulated clock."""

    def __init__(self, config: SimulatorConfig, now: Callable[[], float]) -> None:
        self.config = config
        self._now = now
        self._serial = 0
        self.by_id: dict[str, Login] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.session_tokens: dict[str, SessionToken] = {}
        self.counts: dict[str, dict[str, CallCounts]] = {"refresh": {}, "session": {}}

    def _fresh(self, kind: str) -> str:
        self._serial += 1
        return _hex(self.config.seed, kind, self._serial)

    # -- identities -------------------------------------------------------------------------
    def add(self, account_id: str, *, plan: str | None = None, email: str | None = None) -> Login:
        """The login of ``account_id`` (created when new); ``plan``/``email`` update it."""
        login = self.by_id.get(account_id)
        if login is None:
            user_id = "user-" + _hex("user", account_id)[:24]
            login = Login(account_id, email or "demo@example.com", plan or "plus", user_id)
            self.by_id[account_id] = login
        if plan is not None:
            login.plan = plan
        if email is not None:
            login.email = email
        return login

    def seed(self, count: int, plan: str | None = None) -> list[Credentials]:
        """``count`` new logins with fresh tokens (ids derive from the seed and their index)."""
        created = []
        for _ in range(count):
            index = len(self.by_id) + 1
            account_id = str(uuid.UUID(hex=_hex(self.config.seed, "account", index)))
            login = self.add(account_id, plan=plan or self.config.account_plan)
            login.email = f"sim-user-{index:04d}@example.com"
            access, id_token = self.issue(login)
            refresh, session = self.new_refresh_token(account_id), self.new_session_token(account_id)
            created.append(
                Credentials(account_id, login.email, login.plan, access, refresh, id_token, session)
            )
        return created

    def issue(self, login: Login) -> tuple[str, str]:
        """A new (access token, id token) pair expiring after the configured lifetime."""
        now = int(self._now())
        exp = now + self.config.access_token_lifetime_s
        access = make_access_token(
            login.account_id,
            plan=login.plan,
            exp=exp,
            email=login.email,
            user_id=login.user_id,
            issued_at=now,
        )
        id_token = make_id_token(
            login.account_id,
            plan=login.plan,
            exp=exp,
            email=login.email,
            user_id=login.user_id,
            issued_at=now,
        )
        return access, id_token

    def set_deactivated(self, account_id: str, deactivated: bool) -> None:
        self.add(account_id).deactivated = deactivated

    def is_deactivated(self, account_id: str) -> bool:
        login = self.by_id.get(account_id)
        return login is not None and login.deactivated

    # -- refresh tokens ---------------------------------------------------------------------
    def new_refresh_token(self, account_id: str) -> str:
        token = "rt_sim_" + self._fresh("refresh") + self._fresh("refresh")
        self.refresh_tokens[token] = RefreshToken(account_id)
        return token

    def rotate(self, refresh_token: str) -> RotateResult:
        """Spend ``refresh_token``: ("ok", login, new refresh token) or ("rejected", login, code)."""
        record = self.refresh_tokens.get(refresh_token)
        if record is None:
            return "rejected", None, REFRESH_INVALIDATED
        login = self.add(record.account_id)
        if record.dead_code is not None:
            return "rejected", login, record.dead_code
        if record.rotated:
            return "rejected", login, REFRESH_REUSED
        record.rotated = True
        return "ok", login, self.new_refresh_token(record.account_id)

    def revoke(self, *, token: str | None = None, account_id: str | None = None, code: str) -> int:
        """Kill one refresh token, or every live one of an account; how many were killed."""
        killed = 0
        for value, record in self.refresh_tokens.items():
            if value == token or (token is None and record.account_id == account_id):
                if record.dead_code is None and not record.rotated:
                    killed += 1
                record.dead_code = code
        return killed

    def account_of_refresh(self, refresh_token: str) -> str | None:
        record = self.refresh_tokens.get(refresh_token)
        return None if record is None else record.account_id

    # -- session tokens ---------------------------------------------------------------------
    def new_session_token(self, account_id: str, lifetime_s: float | None = None) -> str:
        token = "sess_sim_" + self._fresh("session") + self._fresh("session")
        self.add_session_token(token, account_id, lifetime_s)
        return token

    def add_session_token(self, token: str, account_id: str, lifetime_s: float | None = None) -> None:
        lifetime = self.config.session_lifetime_s if lifetime_s is None else lifetime_s
        self.add(account_id)
        self.session_tokens[token] = SessionToken(account_id, self._now() + lifetime)

    def session_login(self, token: str) -> Login | None:
        """The signed-in login of a session token; None when unknown, expired or deactivated."""
        record = self.session_tokens.get(token)
        if record is None or record.expires_at <= self._now():
            return None
        login = self.by_id.get(record.account_id)
        return None if login is None or login.deactivated else login

    def session_expires_at(self, token: str) -> float:
        return self.session_tokens[token].expires_at

    # -- counters ---------------------------------------------------------------------------
    def count(self, endpoint: str, account_id: str | None, outcome: Outcome | None = None) -> None:
        """One more call (``outcome`` None) or one more outcome of ``endpoint`` for the account."""
        per_account = self.counts[endpoint]
        counts = per_account.setdefault(account_id or UNKNOWN_ACCOUNT, CallCounts())
        if outcome is None:
            counts.calls += 1
        else:
            setattr(counts, outcome, getattr(counts, outcome) + 1)

    def stats(self) -> dict[str, dict[str, dict[str, int]]]:
        return {
            endpoint: {account: asdict(counts) for account, counts in per_account.items()}
            for endpoint, per_account in self.counts.items()
        }
