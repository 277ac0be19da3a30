"""Who may use the admin API: a password (console sign-in) or a token (scripts), never a client key.

Sessions are **signed cookies**, not server-side rows: ``<id>.<expiry>.<hmac>`` with an HMAC-SHA256
key derived from the admin secrets themselves. Every worker process and every instance with the
same settings derives the same key, so any of them accepts a session another one issued, with no
shared state and nothing to clean up. The cost is that a sign-out cannot revoke a copied cookie
everywhere: the worker that serves it forgets the session id (a per-process deny list until the
expiry) and the browser drops it; sessions are short (``admin_session_hours``).

The password is kept only as a scrypt hash (``scrypt$n$r$p$salt$hash``), from the moment the
settings are loaded; an operator may also configure that hash form directly. ``gptgate serve`` on
loopback without any admin secret generates a one-time password in the parent process, prints it
and hands the workers only its hash (:func:`one_time_password`).

Failed sign-ins are counted per client address; after ``admin_lockout`` failures in a window the
address is refused with 429 and ``Retry-After`` (per process: with N workers an attacker gets at
most N times the budget, still a handful of guesses).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

from pydantic import SecretStr

from gptgate.settings import Settings, is_loopback

COOKIE = "gptgate_admin"
CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "gptgate"
LOCKOUT_SECONDS = 300.0
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64url), the only form a password is kept in."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def is_hash(value: str) -> bool:
    return value.startswith("scrypt$") and value.count("$") == 5


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = _unb64(digest)
        got = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def admin_enabled(settings: Settings) -> bool:
    """The admin API is served on loopback, or anywhere once an admin secret is set."""
    return bool(settings.admin_password or settings.admin_token) or is_loopback(settings.host)


def one_time_password(settings: Settings) -> tuple[Settings, str | None]:
    """On loopback with no admin secret: a generated password (to print once) and settings that
    carry only its hash, so every forked worker accepts it. Otherwise the settings unchanged."""
    if settings.admin_password or settings.admin_token or not is_loopback(settings.host):
        return settings, None
    password = secrets.token_urlsafe(12)
    hashed = SecretStr(hash_password(password))
    return settings.model_copy(update={"admin_password": hashed}), password


def console_hint(settings: Settings, base: str, one_time: str | None) -> str:
    """The line ``gptgate serve`` prints: where the console is and how to sign in."""
    if not admin_enabled(settings):
        return "console: off on this address (set admin_password or admin_token to turn it on)"
    if one_time is not None:
        return (
            f"console: {base}/admin — sign in with password {one_time} "
            "(generated for this run; set admin_password to choose one)"
        )
    if settings.admin_password:
        return f"console: {base}/admin — sign in with the configured admin_password"
    return f"admin API: {base}/admin/api — send Authorization: Bearer <admin_token>"


@dataclass(slots=True)
class Failures:
    count: int = 0
    first: float = 0.0
    locked_until: float = 0.0


@dataclass
class AdminAuth:
    """The admin secrets of one process (hashes and a derived signing key; no plaintext)."""

    password_hash: str | None
    token_hash: bytes | None
    session_seconds: float
    lockout: int
    key: bytes
    _failures: dict[str, Failures] = field(default_factory=dict)
    _revoked: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> AdminAuth:
        password = settings.admin_password.get_secret_value() if settings.admin_password else None
        token = settings.admin_token.get_secret_value() if settings.admin_token else None
        # The signing key depends only on the configured secrets: equal in every worker.
        material = f"{password or ''}\0{token or ''}".encode()
        key = hmac.new(b"gptgate admin session v1", material, hashlib.sha256).digest()
        stored = None
        if password:
            stored = password if is_hash(password) else hash_password(password)
        return cls(
            password_hash=stored,
            token_hash=hashlib.sha256(token.encode()).digest() if token else None,
            session_seconds=settings.admin_session_hours * 3600,
            lockout=settings.admin_lockout,
            key=key,
        )

    # -- credentials
    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and verify_password(password, self.password_hash)

    def check_token(self, token: str) -> bool:
        if self.token_hash is None:
            return False
        return hmac.compare_digest(hashlib.sha256(token.encode()).digest(), self.token_hash)

    # -- sessions
    def new_session(self, now: float | None = None) -> tuple[str, float]:
        """A signed session cookie value and its expiry (unix seconds)."""
        expires = int((now if now is not None else time.time()) + self.session_seconds)
        body = f"{secrets.token_urlsafe(18)}.{expires}"
        return f"{body}.{self._sign(body)}", float(expires)

    def session_expiry(self, cookie: str | None, now: float | None = None) -> float | None:
        """The expiry of a valid, unexpired, not signed-out session; None otherwise."""
        if not cookie or cookie.count(".") != 2:
            return None
        body, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac, self._sign(body)):
            return None
        sid, _, expires_text = body.partition(".")
        try:
            expires = float(expires_text)
        except ValueError:
            return None
        if expires <= (now if now is not None else time.time()) or sid in self._revoked:
            return None
        return expires

    def end_session(self, cookie: str | None) -> None:
        expires = self.session_expiry(cookie)
        if cookie and expires is not None:
            self._revoked[cookie.partition(".")[0]] = expires
        now = time.time()
        for sid in [s for s, until in self._revoked.items() if until <= now]:
            del self._revoked[sid]

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest())

    # -- lockout
    def locked_for(self, client: str, now: float | None = None) -> float:
        """Seconds until ``client`` may try again (0: it may)."""
        entry = self._failures.get(client)
        now = now if now is not None else time.time()
        return max(0.0, entry.locked_until - now) if entry else 0.0

    def failed(self, client: str, now: float | None = None) -> None:
        now = now if now is not None else time.time()
        entry = self._failures.setdefault(client, Failures(first=now))
        if now - entry.first > LOCKOUT_SECONDS:
            entry.count, entry.first = 0, now
        entry.count += 1
        if entry.count >= self.lockout:
            entry.locked_until = now + LOCKOUT_SECONDS
            entry.count, entry.first = 0, now
        if len(self._failures) > 10_000:  # bounded: forget the oldest addresses
            for old in sorted(self._failures, key=lambda c: self._failures[c].first)[:1000]:
                del self._failures[old]

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
