"""The account store's vocabulary: the stored record, the ``Store`` interface and its errors.

::

    StoreError                    anything the store cannot do (message safe to show)
    ├── AccountNotFound           no account with that id (also a LookupError)
    ├── DuplicateAccount          the name is taken
    ├── StaleTokenVersion         a token compare-and-set lost: another writer rotated first
    ├── WrongSecretKey            stored tokens do not decrypt with this key
    └── UnsupportedDatabase       a database URL this gateway cannot open

Every method is synchronous and each write is one committed, durable transaction when it
returns. The gateway calls the store through ``asyncio.to_thread``; the CLI calls it directly.
"""

from __future__ import annotations

import builtins
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, get_args

if TYPE_CHECKING:
    from gptgate.storage.chats import SqlChatStore
    from gptgate.storage.keys import KeyStore
    from gptgate.storage.usage import SqlUsageStore

Status: TypeAlias = Literal["active", "disabled", "needs_relogin", "deactivated"]
STATUSES: frozenset[str] = frozenset(get_args(Status))
TOKEN_FIELDS = ("access_token", "refresh_token", "id_token", "session_token")


def new_account_id() -> str:
    """A gateway account id: ``acc_`` and 12 hex digits, stable for the account's life."""
    return "acc_" + secrets.token_hex(6)


@dataclass(slots=True, kw_only=True)
class AccountRecord:
    """One stored ChatGPT login.

    ``quota`` is the JSON form of ``gptgate.accounts.model.Quota`` (``dataclasses.asdict``):
    ``{"primary": {"used_percent", "window_minutes", "resets_at"} | None, "secondary": ...,
    "plan_type", "updated_at"}``. Times are unix seconds.
    """

    name: str
    id: str = field(default_factory=new_account_id)
    account_id: str | None = None
    email: str | None = None
    plan: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    session_token: str | None = None
    expires_at: float | None = None
    status: Status = "active"
    status_reason: str | None = None
    proxy: str | None = None
    quota: dict[str, Any] = field(default_factory=dict)
    token_version: int = 0
    last_refresh_at: float | None = None
    created_at: float | None = None
    updated_at: float | None = None
    last_used_at: float | None = None
    #: the upstreams the login may serve (``codex``, ``chatgpt_web``); None: every one
    upstreams: builtins.list[str] | None = None

    def __repr__(self) -> str:  # never a token, even in a traceback or a log line
        return f"AccountRecord(id={self.id!r}, name={self.name!r}, status={self.status!r})"


class StoreError(Exception):
    """A store failure; ``str(error)`` is safe to show an operator (no token, no password)."""


class AccountNotFound(StoreError, LookupError):
    def __init__(self, id_: str) -> None:
        super().__init__(f"no account {id_!r}")
        self.id = id_


class DuplicateAccount(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"an account named {name!r} already exists")
        self.name = name


class StaleTokenVersion(StoreError):
    """Another writer stored new tokens since ``expected`` was read: re-read, do not retry."""

    def __init__(self, id_: str, expected: int, current: int) -> None:
        super().__init__(
            f"tokens of {id_} changed concurrently (expected version {expected}, stored {current})"
        )
        self.id = id_
        self.expected = expected
        self.current = current


class WrongSecretKey(StoreError):
    pass


class UnsupportedDatabase(StoreError):
    pass


class Store(Protocol):
    """Where accounts live. Implementations: ``gptgate.storage.sql.SqlStore`` (SQLite, PostgreSQL)."""

    @property
    def keys(self) -> KeyStore:
        """Client API keys, in the same database (``storage/keys.py``)."""

    #: the usage table (one row per model call): batches in, totals and exports out
    usage: SqlUsageStore
    #: the chat page's conversations (``/chat``), each visible to its owning key only
    chats: SqlChatStore

    def migrate(self) -> None:
        """Bring the schema to the newest revision; safe to call again and from several processes."""

    def add(self, record: AccountRecord) -> AccountRecord:
        """Insert ``record``; :class:`DuplicateAccount` when its name is taken. Returns it as stored."""

    def get(self, id_or_name: str) -> AccountRecord | None: ...

    def list(self) -> builtins.list[AccountRecord]:
        """Every account, oldest first."""

    def update_tokens(
        self,
        id: str,
        *,
        access_token: str | None,
        refresh_token: str | None,
        id_token: str | None,
        expires_at: float | None,
        expected_version: int | None,
        refreshed_at: float | None = None,
        session_token: str | None = None,
    ) -> AccountRecord:
        """Store new tokens (as given: pass the current value to keep one) and bump ``token_version``.
        ``session_token`` is the exception: None keeps the stored one (only a rotation sets it).

        With ``expected_version`` this is a compare-and-set: it raises :class:`StaleTokenVersion`
        when the stored version differs, i.e. another process rotated the tokens first.
        ``last_refresh_at`` becomes ``refreshed_at`` (default now).
        """

    def set_status(self, id: str, status: Status, reason: str | None = None) -> AccountRecord: ...

    def update_quota(self, id: str, quota: dict[str, Any]) -> None: ...

    def touch(self, id: str, when: float) -> None:
        """Record a use (``last_used_at``); cheap, does not change ``updated_at``."""

    def set_proxy(self, id: str, proxy: str | None) -> AccountRecord: ...

    def set_upstreams(self, id: str, upstreams: builtins.list[str] | None) -> AccountRecord:
        """Which upstreams the account may serve (None: every one)."""

    def remove(self, id: str) -> None: ...

    def version(self) -> int:
        """A counter that every committed change to accounts (tokens, status, proxy, added,
        removed) or client keys increases: a worker that sees it move reloads. Quota snapshots
        and ``touch`` do not count."""

    def close(self) -> None: ...
