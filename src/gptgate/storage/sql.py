"""``SqlStore``: the ``Store`` on SQLAlchemy Core, one implementation for SQLite and PostgreSQL.

The backends differ only in how their engine is made and how a write transaction begins
(``sqlite.py``, ``postgres.py``). Token columns are encrypted on the way in and decrypted on the
way out (``crypto.py``); nothing above this module sees ciphertext, nothing below sees a token.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gptgate.storage import changes, postgres, transactions
from gptgate.storage.base import (
    STATUSES,
    TOKEN_FIELDS,
    AccountNotFound,
    AccountRecord,
    DuplicateAccount,
    StaleTokenVersion,
    Status,
    StoreError,
)
from gptgate.storage.chats import SqlChatStore
from gptgate.storage.crypto import TokenCipher
from gptgate.storage.keys import SqlKeyStore
from gptgate.storage.schema import accounts
from gptgate.storage.usage import SqlUsageStore

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SqlStore:
    """A :class:`~gptgate.storage.base.Store` over a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, cipher: TokenCipher) -> None:
        self.engine = engine
        self._cipher = cipher
        self._sqlite = engine.dialect.name == "sqlite"
        #: client API keys (``storage/keys.py``)
        self.keys = SqlKeyStore(engine)
        #: the usage table (one row per model call), on the same engine
        self.usage = SqlUsageStore(engine)
        #: the chat page's conversations, per client key (``storage/chats.py``)
        self.chats = SqlChatStore(engine)

    def __repr__(self) -> str:
        return f"SqlStore({self.engine.url.render_as_string(hide_password=True)!r})"

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[Connection]:
        with transactions.write(self.engine, durable=durable) as conn:
            yield conn

    # -- rows <-> records

    def _seal(self, id_: str, field: str, value: str | None) -> str | None:
        return None if value is None else self._cipher.encrypt(value, f"{id_}/{field}")

    def _record(self, row: sa.RowMapping) -> AccountRecord:
        id_ = row["id"]
        tokens = {
            f: None if row[f] is None else self._cipher.decrypt(row[f], f"{id_}/{f}") for f in TOKEN_FIELDS
        }
        return AccountRecord(
            id=id_,
            name=row["name"],
            account_id=row["account_id"],
            email=row["email"],
            plan=row["plan"],
            **tokens,
            expires_at=row["expires_at"],
            status=cast(Status, row["status"]),
            status_reason=row["status_reason"],
            proxy=None if row["proxy"] is None else self._cipher.decrypt(row["proxy"], f"{id_}/proxy"),
            quota=dict(row["quota"] or {}),
            token_version=row["token_version"],
            last_refresh_at=row["last_refresh_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            last_used_at=row["last_used_at"],
            upstreams=list(row["upstreams"]) if row["upstreams"] is not None else None,
        )

    def _fetch(self, conn: Connection, id_: str) -> AccountRecord:
        row = conn.execute(sa.select(accounts).where(accounts.c.id == id_)).mappings().first()
        if row is None:
            raise AccountNotFound(id_)
        return self._record(row)

    def _update(
        self, id_: str, values: dict[str, Any], *, durable: bool = True, change: bool = True
    ) -> AccountRecord:
        with self._write(durable=durable) as conn:
            result = conn.execute(accounts.update().where(accounts.c.id == id_).values(**values))
            if result.rowcount == 0:
                raise AccountNotFound(id_)
            if change:
                changes.bump(conn)
            return self._fetch(conn, id_)

    # -- the Store interface

    def migrate(self) -> None:
        from alembic import command  # heavy: imported only when migrating
        from alembic.config import Config
        from alembic.util.exc import CommandError

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._write() as conn:
            if not self._sqlite:
                postgres.lock_for_migration(conn)
            config.attributes["connection"] = conn
            config.attributes["cipher"] = self._cipher  # 0005 seals the proxies stored in clear
            try:
                command.upgrade(config, "head")
            except CommandError as exc:
                raise StoreError(f"cannot migrate the account store: {exc} (is gptgate older?)") from exc

    def add(self, record: AccountRecord) -> AccountRecord:
        now = time.time()
        values: dict[str, Any] = {
            "id": record.id,
            "name": record.name,
            "account_id": record.account_id,
            "email": record.email,
            "plan": record.plan,
            **{f: self._seal(record.id, f, getattr(record, f)) for f in TOKEN_FIELDS},
            "expires_at": record.expires_at,
            "status": _checked(record.status),
            "status_reason": record.status_reason,
            "proxy": self._seal(record.id, "proxy", record.proxy),
            "quota": record.quota,
            "token_version": record.token_version,
            "last_refresh_at": record.last_refresh_at,
            "created_at": record.created_at or now,
            "updated_at": now,
            "last_used_at": record.last_used_at,
            "upstreams": record.upstreams,
        }
        try:
            with self._write() as conn:
                taken = conn.execute(sa.select(accounts.c.id).where(accounts.c.name == record.name)).first()
                if taken is not None:
                    raise DuplicateAccount(record.name)
                conn.execute(accounts.insert().values(**values))
                changes.bump(conn)
                return self._fetch(conn, record.id)
        except sa.exc.IntegrityError as exc:  # lost a race for the name (PostgreSQL)
            raise DuplicateAccount(record.name) from exc

    def get(self, id_or_name: str) -> AccountRecord | None:
        query = sa.select(accounts).where(sa.or_(accounts.c.id == id_or_name, accounts.c.name == id_or_name))
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        if not rows:
            return None
        by_id = [r for r in rows if r["id"] == id_or_name]
        return self._record(by_id[0] if by_id else rows[0])

    def list(self) -> builtins.list[AccountRecord]:
        with self._read() as conn:
            rows = conn.execute(sa.select(accounts).order_by(accounts.c.created_at, accounts.c.id))
            return [self._record(r) for r in rows.mappings()]

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
        now = time.time()
        values = {
            "access_token": self._seal(id, "access_token", access_token),
            "refresh_token": self._seal(id, "refresh_token", refresh_token),
            "id_token": self._seal(id, "id_token", id_token),
            "expires_at": expires_at,
            "last_refresh_at": now if refreshed_at is None else refreshed_at,
            "updated_at": now,
            "token_version": accounts.c.token_version + 1,
        }
        if session_token is not None:  # a rotated web session cookie; None keeps the stored one
            values["session_token"] = self._seal(id, "session_token", session_token)
        stmt = accounts.update().where(accounts.c.id == id).values(**values)
        if expected_version is not None:
            stmt = stmt.where(accounts.c.token_version == expected_version)
        with self._write() as conn:
            if conn.execute(stmt).rowcount == 0:
                current = conn.execute(
                    sa.select(accounts.c.token_version).where(accounts.c.id == id)
                ).scalar_one_or_none()
                if current is None or expected_version is None:
                    raise AccountNotFound(id)
                raise StaleTokenVersion(id, expected_version, current)
            changes.bump(conn)
            return self._fetch(conn, id)

    def set_status(self, id: str, status: Status, reason: str | None = None) -> AccountRecord:
        values = {"status": _checked(status), "status_reason": reason, "updated_at": time.time()}
        return self._update(id, values)

    def update_quota(self, id: str, quota: dict[str, Any]) -> None:
        self._update(id, {"quota": quota, "updated_at": time.time()}, durable=False, change=False)

    def touch(self, id: str, when: float) -> None:
        with self._write(durable=False) as conn:
            result = conn.execute(accounts.update().where(accounts.c.id == id).values(last_used_at=when))
            if result.rowcount == 0:
                raise AccountNotFound(id)

    def set_proxy(self, id: str, proxy: str | None) -> AccountRecord:
        return self._update(id, {"proxy": self._seal(id, "proxy", proxy), "updated_at": time.time()})

    def set_upstreams(self, id: str, upstreams: builtins.list[str] | None) -> AccountRecord:
        values = sorted(set(upstreams)) if upstreams is not None else None
        return self._update(id, {"upstreams": values, "updated_at": time.time()})

    def remove(self, id: str) -> None:
        with self._write() as conn:
            if conn.execute(accounts.delete().where(accounts.c.id == id)).rowcount == 0:
                raise AccountNotFound(id)
            changes.bump(conn)

    def version(self) -> int:
        with self._read() as conn:
            return changes.read(conn)

    def close(self) -> None:
        self.engine.dispose()


def _checked(status: str) -> str:
    if status not in STATUSES:
        raise ValueError(f"unknown account status {status!r} (one of {', '.join(sorted(STATUSES))})")
    return status
