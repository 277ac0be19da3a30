"""Account operations: add, bulk import, test, refresh, enable, disable, remove, clear.

Plain functions over a :class:`~gptgate.storage.Store` (and, for ``test``/``refresh``, the
:class:`~gptgate.accounts.manager.AccountManager` that the gateway runs), used alike by the
``gptgate accounts`` commands and the admin API. Each store change is one committed transaction
that bumps the store's change counter, so running workers pick it up within
``reload_seconds`` (see ``AccountManager``); callers that hold the shared state may also
:func:`announce` it for an immediate reload.

Store calls are synchronous: async callers run them in a thread.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, get_args
from urllib.parse import urlsplit, urlunsplit

import orjson

from gptgate.accounts import jwt
from gptgate.accounts.model import Account, Quota
from gptgate.accounts.refresh import CHANNEL
from gptgate.storage.base import AccountRecord, Store, StoreError
from gptgate.types import UpstreamName

if TYPE_CHECKING:
    from gptgate.accounts.manager import AccountManager
    from gptgate.state.base import PoolState

TOKENS = ("access_token", "refresh_token", "id_token", "session_token")
_ALIASES = {
    "accessToken": "access_token",
    "refreshToken": "refresh_token",
    "idToken": "id_token",
    "sessionToken": "session_token",
    "accountId": "account_id",
}


class DuplicateLogin(StoreError):
    """The login is stored already (same account id and e-mail, or a same token)."""

    def __init__(self, existing: AccountRecord) -> None:
        super().__init__(f"this account is already stored as {existing.name!r}")
        self.existing = existing


@dataclass(slots=True)
class Entry:
    """One account to add, as given on the command line, in an upload or in an import file."""

    access_token: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    session_token: str | None = None
    account_id: str | None = None
    email: str | None = None
    name: str | None = None
    proxy: str | None = None


@dataclass(slots=True)
class ImportReport:
    added: list[AccountRecord] = field(default_factory=list)
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``test`` or ``refresh`` found: ``ok`` and one line for an operator."""

    ok: bool
    message: str
    quota: Quota | None = None


# -- reading accounts from flags, uploads and files


def entry_from_object(obj: Any) -> Entry:
    """A Codex ``auth.json`` (tokens under ``tokens``) or a flat object (snake or camel case)."""
    if isinstance(obj, str):
        return entry_from_token(obj)
    if not isinstance(obj, dict):
        raise ValueError("expected an object or a token")
    flat = {_ALIASES.get(k, k): v for k, v in obj.items()}
    nested = obj.get("tokens")
    if isinstance(nested, dict):
        flat.update({_ALIASES.get(k, k): v for k, v in nested.items() if v})
    fields = {f.name: flat.get(f.name) for f in dataclasses.fields(Entry)}
    for name, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} is not a string")
    return Entry(**{f: v or None for f, v in fields.items()})


def entry_from_token(token: str) -> Entry:
    """A bare token: a JWT is an access token, a five-part JWE a session token, else a refresh token."""
    parts = token.split(".")
    if len(parts) == 3 and jwt.claims(token):
        return Entry(access_token=token)
    if len(parts) == 5:
        return Entry(session_token=token)
    return Entry(refresh_token=token)


def read_entries(text: str) -> Iterator[tuple[str, Entry | ValueError]]:
    """(where, entry or what is wrong) for a JSON document, a JSON array, JSONL, or tokens per line."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            doc = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            doc = None  # JSON lines, or broken
        if doc is not None:
            items = doc if isinstance(doc, list) else _listed(doc)
            for n, item in enumerate(items, 1):
                yield f"item {n}", _attempt(entry_from_object, item)
            return
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            yield f"line {n}", _attempt(_entry_from_json, line)
        else:
            yield f"line {n}", entry_from_token(line)


def _listed(doc: Any) -> list[Any]:
    """The accounts of one JSON document: ``{"accounts": [...]}`` (the file ``gptgate simulate
    --accounts-file`` writes, with its ``base_url``) lists them; any other object is one."""
    accounts = doc.get("accounts") if isinstance(doc, dict) else None
    if isinstance(accounts, list) and "tokens" not in doc and "access_token" not in doc:
        return accounts
    return [doc]


def _entry_from_json(line: str) -> Entry:
    return entry_from_object(orjson.loads(line))


def _attempt(make: Callable[[Any], Entry], arg: Any) -> Entry | ValueError:
    try:
        return make(arg)
    except orjson.JSONDecodeError:
        return ValueError("not valid JSON")
    except ValueError as exc:
        return exc


def to_record(entry: Entry, existing: list[AccountRecord]) -> AccountRecord:
    """The record to store for ``entry``: identity read from its JWTs, a free name chosen."""
    if not (entry.access_token or entry.refresh_token or entry.session_token):
        raise ValueError("no access, refresh or session token")
    acc = Account.from_tokens(entry.access_token or "", account_id=entry.account_id, id_token=entry.id_token)
    return AccountRecord(
        name=entry.name or free_name(entry.email or acc.email or acc.account_id or "account", existing),
        account_id=acc.account_id,
        email=entry.email or acc.email,
        plan=acc.plan,
        access_token=entry.access_token,
        refresh_token=entry.refresh_token,
        id_token=entry.id_token,
        session_token=entry.session_token,
        expires_at=acc.expires_at,
        proxy=entry.proxy,
    )


def free_name(base: str, existing: list[AccountRecord]) -> str:
    """``base``, or ``base-2``, ``base-3``... (a Team member's workspaces share one e-mail)."""
    taken = {r.name for r in existing}
    return next(
        n for n in itertools.chain([base], (f"{base}-{i}" for i in itertools.count(2))) if n not in taken
    )


def duplicate_of(record: AccountRecord, existing: list[AccountRecord]) -> AccountRecord | None:
    """The stored account that is the same login: same account id and e-mail, or a same token."""
    for other in existing:
        if record.account_id and record.email:
            if (other.account_id, other.email) == (record.account_id, record.email):
                return other
        elif any(getattr(record, t) and getattr(record, t) == getattr(other, t) for t in TOKENS):
            return other
    return None


# -- operations on the store


def find(store: Store, id_or_name: str) -> AccountRecord:
    record = store.get(id_or_name)
    if record is None:
        raise LookupError(f"no account named {id_or_name!r}")
    return record


def add(store: Store, entry: Entry) -> AccountRecord:
    """Store one login. ValueError when it carries no token; DuplicateLogin when stored already."""
    existing = store.list()
    record = to_record(entry, existing)
    same = duplicate_of(record, existing)
    if same is not None:
        raise DuplicateLogin(same)
    return store.add(record)


def import_text(
    store: Store, text: str, *, progress: Callable[[Iterator[Any]], Iterator[Any]] | None = None
) -> ImportReport:
    """Store every login in ``text`` (see :func:`read_entries`); stored ones are skipped."""
    existing = store.list()
    report = ImportReport()
    entries: Iterator[tuple[str, Entry | ValueError]] = read_entries(text)
    for where, entry in progress(entries) if progress is not None else entries:
        try:
            if isinstance(entry, ValueError):
                raise entry
            record = to_record(entry, existing)
            if duplicate_of(record, existing) is not None:
                report.skipped += 1
                continue
            added = store.add(record)
        except (ValueError, StoreError) as exc:
            report.failed.append(f"{where}: {exc}")
            continue
        existing.append(added)
        report.added.append(added)
    return report


def set_enabled(store: Store, id_or_name: str, enabled: bool, reason: str | None = None) -> AccountRecord:
    record = find(store, id_or_name)
    return store.set_status(record.id, "active" if enabled else "disabled", None if enabled else reason)


def set_upstreams(store: Store, id_or_name: str, upstreams: list[str] | None) -> AccountRecord:
    """Which upstreams the account may serve (None: every one). ValueError for an unknown name."""
    known = get_args(UpstreamName)
    unknown = sorted(set(upstreams or ()) - set(known))
    if unknown:
        raise ValueError(f"unknown upstream {', '.join(unknown)} (one of {', '.join(known)})")
    if upstreams is not None and not upstreams:
        raise ValueError("an account must serve at least one upstream (or every one)")
    return store.set_upstreams(find(store, id_or_name).id, upstreams)


def remove(store: Store, id_or_name: str) -> AccountRecord:
    record = find(store, id_or_name)
    store.remove(record.id)
    return record


def clear(store: Store) -> int:
    """Remove every stored account; how many there were."""
    records = store.list()
    for record in records:
        store.remove(record.id)
    return len(records)


async def announce(state: PoolState, what: str, account_id: str) -> None:
    """Tell every worker now (``status``, ``tokens``, ``added``, ``removed``); the store's change
    counter tells them anyway within ``reload_seconds``."""
    await state.publish(CHANNEL, f"{what} {account_id}")


# -- operations against the upstream (the gateway's own code paths)


async def test(manager: AccountManager, record: AccountRecord) -> Outcome:
    """Refresh if due, then read the account's quota from the usage endpoint (spends no turn)."""
    from gptgate import errors
    from gptgate.accounts.manager import account_from_record

    account = manager.pool.get(record.id) or account_from_record(record)
    if account.status != "active":
        reason = f" ({account.status_reason})" if account.status_reason else ""
        return Outcome(False, f"{account.status}{reason}")
    try:
        quota = await manager.check(account)
    except errors.GatewayError as exc:
        now = f" -> now {account.status}" if account.status != "active" else ""
        return Outcome(False, f"FAILED: {exc.message}{now}")
    await manager.store_quota(account)
    parts = [f"ok, plan {quota.plan_type or account.plan or '?'}"]
    for label, window in (("5h", quota.primary), ("weekly", quota.secondary)):
        if window is not None:
            reset = "" if window.resets_at is None else f", resets in {span(window.resets_at - time.time())}"
            parts.append(f"{label} {window.used_percent:.0f}% used{reset}")
    return Outcome(True, "; ".join(parts), quota)


async def refresh(manager: AccountManager, record: AccountRecord) -> Outcome:
    """Refresh the tokens now (the rotated refresh token is stored before anything else)."""
    from gptgate.accounts.manager import account_from_record

    account = manager.pool.get(record.id) or account_from_record(record)
    outcome = await manager.refresher.refresh(account)
    if outcome in ("refreshed", "adopted"):
        left = "" if account.expires_at is None else f", expires in {span(account.expires_at - time.time())}"
        return Outcome(True, f"{outcome}{left}")
    if outcome == "rejected":
        return Outcome(False, f"refresh refused -> {account.status} ({account.status_reason})")
    if outcome == "impossible":
        return Outcome(False, "no refresh token stored (add one: gptgate accounts add --refresh-token -)")
    return Outcome(False, "token endpoint unavailable, try again later (the account is unchanged)")


# -- presenting (never a secret)


def public(r: AccountRecord) -> dict[str, Any]:
    """A record without its secrets (proxy password hidden, tokens as booleans)."""
    out = {f.name: getattr(r, f.name) for f in dataclasses.fields(r) if f.name not in TOKENS}
    out["proxy"] = redact_url(r.proxy) if r.proxy else None
    out["tokens"] = {t: getattr(r, t) is not None for t in TOKENS}
    return out


def fingerprint(token: str | None) -> str:
    if not token:
        return "not set"
    return f"set (sha256 {hashlib.sha256(token.encode()).hexdigest()[:12]})"


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def span(seconds: float) -> str:
    """``3d4h``, ``2h5m``, ``4m10s``: a duration for one line of output."""
    seconds = max(0, int(seconds))
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60}m"
    return f"{seconds // 60}m{seconds % 60}s"
