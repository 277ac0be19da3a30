"""``SqlChatStore``: the chat page's conversations (``store.chats``), each visible to its owner only.

Every method takes the ``owner`` (a stored key's id, ``static:<sha256 prefix>`` of a key from
settings, or ``anonymous``) and matches it in the same query as the conversation id, so a key
asking for another key's conversation finds nothing: the API then answers 404, exactly as for
an id that never existed. Conversations are not something workers reload for, so no write here
bumps the store's change counter.
"""

from __future__ import annotations

import builtins
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gptgate.storage import transactions
from gptgate.storage.schema import chat_conversations as conversations
from gptgate.storage.schema import chat_messages as messages

#: the most conversations one listing returns (newest first)
LIST_LIMIT = 500
ROLES = frozenset({"system", "user", "assistant"})


def new_conversation_id() -> str:
    return "conv_" + secrets.token_hex(12)


@dataclass(slots=True, kw_only=True)
class ChatMessage:
    role: str
    #: the Chat Completions content: a string or a list of parts (text, image_url, file)
    content: Any
    reasoning: str | None = None
    id: int | None = None
    created_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "content": self.content,
            "reasoning": self.reasoning,
            "created_at": self.created_at,
        }


@dataclass(slots=True, kw_only=True)
class Conversation:
    id: str
    owner: str
    title: str
    model: str | None
    created_at: float
    updated_at: float
    #: loaded by ``get`` (None in a listing)
    messages: list[ChatMessage] | None = field(default=None)

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "model": self.model,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if self.messages is not None:
            out["messages"] = [m.public() for m in self.messages]
        return out


class SqlChatStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with transactions.write(self.engine, durable=True) as conn:
            yield conn

    @staticmethod
    def _mine(owner: str, id_: str) -> sa.ColumnElement[bool]:
        return sa.and_(conversations.c.id == id_, conversations.c.owner == owner)

    def _find(self, conn: Connection, owner: str, id_: str) -> Conversation | None:
        row = conn.execute(sa.select(conversations).where(self._mine(owner, id_))).mappings().first()
        return _conversation(row) if row is not None else None

    def list(self, owner: str) -> builtins.list[Conversation]:
        """The owner's conversations, the most recently updated first (without messages)."""
        query = (
            sa.select(conversations)
            .where(conversations.c.owner == owner)
            .order_by(conversations.c.updated_at.desc(), conversations.c.id)
            .limit(LIST_LIMIT)
        )
        with self.engine.connect() as conn:
            return [_conversation(r) for r in conn.execute(query).mappings()]

    def create(
        self,
        owner: str,
        title: str,
        model: str | None = None,
        turns: builtins.list[ChatMessage] | None = None,
    ) -> Conversation:
        now = time.time()
        id_ = new_conversation_id()
        values = {"id": id_, "owner": owner, "title": title, "model": model}
        with self._write() as conn:
            conn.execute(conversations.insert().values(**values, created_at=now, updated_at=now))
            _insert(conn, id_, turns or [], now)
            found = self._load(conn, owner, id_)
        assert found is not None
        return found

    def get(self, owner: str, id_: str) -> Conversation | None:
        """The conversation with its messages, or None (also when another owner has it)."""
        with self.engine.connect() as conn:
            return self._load(conn, owner, id_)

    def _load(self, conn: Connection, owner: str, id_: str) -> Conversation | None:
        found = self._find(conn, owner, id_)
        if found is not None:
            query = sa.select(messages).where(messages.c.conversation_id == id_).order_by(messages.c.id)
            found.messages = [_message(r) for r in conn.execute(query).mappings()]
        return found

    def update(self, owner: str, id_: str, values: dict[str, Any]) -> Conversation | None:
        """Change ``title`` and/or ``model``; None when the owner has no such conversation."""
        unknown = set(values) - {"title", "model"}
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)[0]!r} of a conversation")
        with self._write() as conn:
            stmt = conversations.update().where(self._mine(owner, id_))
            if conn.execute(stmt.values(**values, updated_at=time.time())).rowcount == 0:
                return None
            return self._find(conn, owner, id_)

    def delete(self, owner: str, id_: str) -> bool:
        with self._write() as conn:
            if conn.execute(conversations.delete().where(self._mine(owner, id_))).rowcount == 0:
                return False
            conn.execute(messages.delete().where(messages.c.conversation_id == id_))
            return True

    def append(
        self, owner: str, id_: str, turns: builtins.list[ChatMessage]
    ) -> builtins.list[ChatMessage] | None:
        """Add messages at the end (one transaction); None when the owner has no such conversation."""
        now = time.time()
        with self._write() as conn:
            stmt = conversations.update().where(self._mine(owner, id_)).values(updated_at=now)
            if conn.execute(stmt).rowcount == 0:
                return None
            first = _insert(conn, id_, turns, now)
            query = (
                sa.select(messages)
                .where(messages.c.conversation_id == id_, messages.c.id >= first)
                .order_by(messages.c.id)
            )
            return [_message(r) for r in conn.execute(query).mappings()] if turns else []


def _insert(conn: Connection, id_: str, turns: builtins.list[ChatMessage], now: float) -> int:
    """Insert ``turns`` in order; returns the first new row's id (0 when there are none)."""
    first = 0
    for turn in turns:
        if turn.role not in ROLES:
            raise ValueError(f"unknown role {turn.role!r}")
        row = {"role": turn.role, "content": turn.content, "reasoning": turn.reasoning, "created_at": now}
        new_id = conn.execute(messages.insert().values(conversation_id=id_, **row)).inserted_primary_key
        if not first and new_id is not None:
            first = int(new_id[0])
    return first


def _conversation(row: sa.RowMapping) -> Conversation:
    return Conversation(
        id=row["id"],
        owner=row["owner"],
        title=row["title"],
        model=row["model"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _message(row: sa.RowMapping) -> ChatMessage:
    return ChatMessage(
        id=row["id"],
        role=row["role"],
        content=row["content"],
        reasoning=row["reasoning"],
        created_at=row["created_at"],
    )
