"""``store.chats``: conversations per owner, messages in order, and no way across owners."""

from __future__ import annotations

import pytest

from gptgate.storage import Store
from gptgate.storage.chats import ChatMessage


def test_create_get_append_update_delete(store: Store) -> None:
    chats = store.chats
    made = chats.create("key_a", "Hello", "gpt-5.5", [ChatMessage(role="user", content="hi")])
    assert made.id.startswith("conv_") and made.owner == "key_a"
    assert [(m.role, m.content) for m in made.messages or []] == [("user", "hi")]
    parts = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
    ]
    added = chats.append(
        "key_a",
        made.id,
        [
            ChatMessage(role="user", content=parts),
            ChatMessage(role="assistant", content="ok", reasoning="think"),
        ],
    )
    assert added is not None and [(m.role, m.content, m.reasoning) for m in added] == [
        ("user", parts, None),
        ("assistant", "ok", "think"),
    ]
    got = chats.get("key_a", made.id)
    assert got is not None and [m.content for m in got.messages or []] == ["hi", parts, "ok"]
    assert got.public()["messages"][2] == {
        "id": added[1].id,
        "role": "assistant",
        "content": "ok",
        "reasoning": "think",
        "created_at": added[1].created_at,
    }
    renamed = chats.update("key_a", made.id, {"title": "Renamed", "model": "gpt-5.4"})
    assert renamed is not None and (renamed.title, renamed.model) == ("Renamed", "gpt-5.4")
    assert [c.title for c in chats.list("key_a")] == ["Renamed"]
    assert chats.delete("key_a", made.id) is True
    assert chats.get("key_a", made.id) is None
    assert chats.delete("key_a", made.id) is False


def test_owners_never_see_each_other(store: Store) -> None:
    chats = store.chats
    mine = chats.create("key_a", "mine")
    other = chats.create("static:0123456789abcdef", "theirs")
    assert [c.id for c in chats.list("key_a")] == [mine.id]
    assert chats.get("key_a", other.id) is None
    assert chats.update("key_a", other.id, {"title": "stolen"}) is None
    assert chats.append("key_a", other.id, [ChatMessage(role="user", content="x")]) is None
    assert chats.delete("key_a", other.id) is False
    theirs = chats.get("static:0123456789abcdef", other.id)
    assert theirs is not None and theirs.title == "theirs" and theirs.messages == []


def test_newest_first_and_bad_input(store: Store) -> None:
    chats = store.chats
    first = chats.create("anonymous", "first")
    second = chats.create("anonymous", "second")
    chats.append("anonymous", first.id, [ChatMessage(role="user", content="bump")])
    assert [c.id for c in chats.list("anonymous")] == [first.id, second.id]
    with pytest.raises(ValueError, match="unknown role 'tool'"):
        chats.append("anonymous", first.id, [ChatMessage(role="tool", content="x")])
    with pytest.raises(ValueError, match="cannot change 'owner'"):
        chats.update("anonymous", first.id, {"owner": "key_b"})
