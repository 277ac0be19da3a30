"""``SqlKeyStore``: client API keys in the ``api_keys`` table (``store.keys``).

Only the SHA-256 of a secret is stored (``secret_hash``); no method returns it except
:meth:`SqlKeyStore.ring`, which the gateway's in-memory key ring loads to find a presented key
by its hash. Every write bumps the store's change counter in its own transaction, so running
workers reload their ring (``changes.py``). ``spend`` reads the ``usage`` table: the tokens a
key used since a time, which seeds its day/week/month budgets after a restart.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gptgate.keys.model import KeyLimits, KeyRecord
from gptgate.storage import changes, transactions
from gptgate.storage.base import StoreError
from gptgate.storage.schema import api_keys


class KeyNotFound(StoreError, LookupError):
    def __init__(self, id_: str) -> None:
        super().__init__(f"no key {id_!r}")
        self.id = id_


class DuplicateKey(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a key named {name!r} already exists")
        self.name = name


class KeyStore(Protocol):
    """Client keys in the store. Synchronous like the ``Store``; each write one transaction."""

    def add(self, record: KeyRecord, secret_hash: str) -> KeyRecord:
        """Insert a key; :class:`DuplicateKey` when its name is taken."""

    def get(self, id_or_name: str) -> KeyRecord | None: ...

    def list(self) -> builtins.list[KeyRecord]:
        """Every key, oldest first (revoked ones too)."""

    def update(self, id: str, values: dict[str, Any]) -> KeyRecord:
        """Change ``name``, ``limits`` (a ``KeyLimits``), ``note`` or ``expires_at``."""

    def revoke(self, id: str, when: float | None = None) -> KeyRecord: ...

    def rotate(self, id: str, secret_hash: str, prefix: str) -> KeyRecord:
        """Replace the key's secret (the old one stops working); a revoked key stays revoked."""

    def ring(self) -> builtins.list[tuple[str, KeyRecord]]:
        """(secret hash, key) of every key: what the gateway's key ring loads."""

    def touch(self, used: dict[str, float]) -> None:
        """Record when keys were last used (cheap; not a change workers reload for)."""


class SqlKeyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    @contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[Connection]:
        with transactions.write(self.engine, durable=durable) as conn:
            yield conn

    def _fetch(self, conn: Connection, id_: str) -> KeyRecord:
        row = conn.execute(sa.select(api_keys).where(api_keys.c.id == id_)).mappings().first()
        if row is None:
            raise KeyNotFound(id_)
        return _record(row)

    def add(self, record: KeyRecord, secret_hash: str) -> KeyRecord:
        now = time.time()
        values = {
            "id": record.id,
            "name": record.name,
            "prefix": record.prefix,
            "secret_hash": secret_hash,
            "limits": record.limits.to_json(),
            "note": record.note,
            "created_at": record.created_at or now,
            "updated_at": now,
            "expires_at": record.expires_at,
            "revoked_at": record.revoked_at,
        }
        try:
            with self._write() as conn:
                taken = conn.execute(sa.select(api_keys.c.id).where(api_keys.c.name == record.name)).first()
                if taken is not None:
                    raise DuplicateKey(record.name)
                conn.execute(api_keys.insert().values(**values))
                changes.bump(conn)
                return self._fetch(conn, record.id)
        except sa.exc.IntegrityError as exc:
            raise DuplicateKey(record.name) from exc

    def get(self, id_or_name: str) -> KeyRecord | None:
        query = sa.select(api_keys).where(sa.or_(api_keys.c.id == id_or_name, api_keys.c.name == id_or_name))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(api_keys.c.created_at)).mappings().all()
        by_id = [r for r in rows if r["id"] == id_or_name]
        return _record(by_id[0]) if by_id else _record(rows[0]) if rows else None

    def list(self) -> builtins.list[KeyRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))
            return [_record(r) for r in rows.mappings()]

    def update(self, id: str, values: dict[str, Any]) -> KeyRecord:
        allowed = {"name", "limits", "note", "expires_at"}
        if set(values) - allowed:
            raise ValueError(f"cannot change {sorted(set(values) - allowed)[0]!r} of a key")
        row = dict(values)
        if isinstance(row.get("limits"), KeyLimits):
            row["limits"] = row["limits"].to_json()
        if "name" in row:
            found = self.get(row["name"])
            if found is not None and found.id != id:
                raise DuplicateKey(row["name"])
        return self._change(id, {**row, "updated_at": time.time()})

    def revoke(self, id: str, when: float | None = None) -> KeyRecord:
        now = time.time() if when is None else when
        with self._write() as conn:
            record = self._fetch(conn, id)
            if record.revoked_at is not None:
                return record
            conn.execute(api_keys.update().where(api_keys.c.id == id).values(revoked_at=now, updated_at=now))
            changes.bump(conn)
            return self._fetch(conn, id)

    def rotate(self, id: str, secret_hash: str, prefix: str) -> KeyRecord:
        return self._change(id, {"secret_hash": secret_hash, "prefix": prefix, "updated_at": time.time()})

    def _change(self, id_: str, values: dict[str, Any]) -> KeyRecord:
        with self._write() as conn:
            if conn.execute(api_keys.update().where(api_keys.c.id == id_).values(**values)).rowcount == 0:
                raise KeyNotFound(id_)
            changes.bump(conn)
            return self._fetch(conn, id_)

    def ring(self) -> builtins.list[tuple[str, KeyRecord]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(api_keys)).mappings().all()
        return [(row["secret_hash"], _record(row)) for row in rows]

    def touch(self, used: dict[str, float]) -> None:
        if not used:
            return
        with self._write(durable=False) as conn:
            for id_, when in used.items():
                conn.execute(api_keys.update().where(api_keys.c.id == id_).values(last_used_at=when))


def _record(row: sa.RowMapping) -> KeyRecord:
    limits = row["limits"] or {}
    return KeyRecord(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        limits=KeyLimits.from_json(dict(limits)) if isinstance(limits, dict) else KeyLimits(),
        note=row["note"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )
