"""The Store contract, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
import time

import pytest

from gptgate.storage import (
    AccountNotFound,
    AccountRecord,
    DuplicateAccount,
    StaleTokenVersion,
    Store,
    TokenCipher,
    open_store,
)

QUOTA = {
    "primary": {"used_percent": 42.5, "window_minutes": 300, "resets_at": 1778598168.0},
    "secondary": {"used_percent": 7.0, "window_minutes": 10080, "resets_at": 1779000000.0},
    "plan_type": "plus",
    "updated_at": 1778590000.25,
}


def record(name: str = "alice", **fields: object) -> AccountRecord:
    values: dict[str, object] = {
        "account_id": "ws-1",
        "email": f"{name}@example.com",
        "plan": "plus",
        "access_token": f"at-{name}",
        "refresh_token": f"rt-{name}",
        "id_token": f"it-{name}",
        "expires_at": 1778600000.5,
    }
    values.update(fields)
    return AccountRecord(name=name, **values)  # type: ignore[arg-type]


def test_add_get_list(store: Store) -> None:
    before = time.time()
    added = store.add(record("alice", session_token="st-alice", proxy="http://proxy:3128"))
    store.add(record("bob"))
    assert added.id.startswith("acc_") and len(added.id) == 16
    assert added.created_at is not None and added.created_at >= before
    assert added.updated_at is not None and added.token_version == 0
    got = store.get("alice")
    assert got == added
    assert store.get(added.id) == added
    assert got is not None and (got.access_token, got.refresh_token, got.id_token, got.session_token) == (
        "at-alice",
        "rt-alice",
        "it-alice",
        "st-alice",
    )
    assert (got.email, got.plan, got.account_id, got.expires_at, got.proxy) == (
        "alice@example.com",
        "plus",
        "ws-1",
        1778600000.5,
        "http://proxy:3128",
    )
    assert got.status == "active" and got.status_reason is None and got.quota == {}
    assert [r.name for r in store.list()] == ["alice", "bob"]
    assert store.get("nobody") is None


def test_get_prefers_the_id_over_a_name(store: Store) -> None:
    first = store.add(record("alice"))
    named_like_id = store.add(record(first.id))
    assert store.get(first.id) == first
    assert store.get(named_like_id.id) == named_like_id


def test_duplicate_name_is_a_clear_error(store: Store) -> None:
    store.add(record("alice"))
    with pytest.raises(DuplicateAccount, match="an account named 'alice' already exists"):
        store.add(record("alice", account_id="ws-2"))
    assert len(store.list()) == 1


def test_tokens_compare_and_set(store: Store) -> None:
    acc = store.add(record())
    new = store.update_tokens(
        acc.id,
        access_token="at-2",
        refresh_token="rt-2",
        id_token=None,
        expires_at=2.0,
        expected_version=0,
        refreshed_at=123.0,
    )
    assert (new.access_token, new.refresh_token, new.id_token, new.expires_at) == ("at-2", "rt-2", None, 2.0)
    assert new.token_version == 1 and new.last_refresh_at == 123.0
    with pytest.raises(StaleTokenVersion) as stale:
        store.update_tokens(
            acc.id, access_token="x", refresh_token="x", id_token=None, expires_at=None, expected_version=0
        )
    assert (stale.value.expected, stale.value.current) == (0, 1)
    assert store.get(acc.id) == new
    forced = store.update_tokens(
        acc.id,
        access_token="at-3",
        refresh_token="rt-3",
        id_token="it-3",
        expires_at=None,
        expected_version=None,
    )
    assert forced.token_version == 2 and forced.refresh_token == "rt-3"
    assert forced.last_refresh_at is not None and forced.last_refresh_at > 123.0


def race(stores: list[Store], id_: str, version: int, round_: int) -> list[str]:
    """Both stores try the same compare-and-set at once; what each got."""
    barrier = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def refresh(store: Store, writer: int) -> None:
        barrier.wait()
        try:
            store.update_tokens(
                id_,
                access_token=f"at-{round_}-{writer}",
                refresh_token=f"rt-{round_}-{writer}",
                id_token=None,
                expires_at=None,
                expected_version=version,
            )
            outcomes.append(f"won-{writer}")
        except StaleTokenVersion:
            outcomes.append("stale")

    threads = [threading.Thread(target=refresh, args=(s, i)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_writers_with_the_same_version_exactly_one_wins(
    store: Store, store_url: str, cipher: TokenCipher
) -> None:
    other = open_store(store_url, cipher)  # a second connection pool, as another process would have
    try:
        acc = store.add(record())
        for round_ in range(15):
            outcomes = race([store, other], acc.id, acc.token_version, round_)
            assert sorted(outcomes)[0] == "stale" and len(outcomes) == 2, outcomes
            winner = next(o for o in outcomes if o.startswith("won"))
            current = other.get(acc.id)
            assert current is not None and current.token_version == acc.token_version + 1
            assert current.refresh_token == f"rt-{round_}-{winner[-1]}"
            acc = current
    finally:
        other.close()


def test_status_proxy_quota_touch(store: Store) -> None:
    acc = store.add(record())
    disabled = store.set_status(acc.id, "needs_relogin", "refresh_token_reused")
    assert (disabled.status, disabled.status_reason) == ("needs_relogin", "refresh_token_reused")
    assert store.set_status(acc.id, "active").status_reason is None
    with pytest.raises(ValueError, match="unknown account status"):
        store.set_status(acc.id, "sleeping")  # type: ignore[arg-type]
    assert store.set_proxy(acc.id, "socks5://127.0.0.1:1080").proxy == "socks5://127.0.0.1:1080"
    assert store.set_proxy(acc.id, None).proxy is None
    store.update_quota(acc.id, QUOTA)
    updated_before_touch = store.get(acc.id)
    assert updated_before_touch is not None and updated_before_touch.quota == QUOTA
    store.touch(acc.id, 1778599999.75)
    touched = store.get(acc.id)
    assert touched is not None and touched.last_used_at == 1778599999.75
    assert touched.updated_at == updated_before_touch.updated_at
    assert touched.token_version == 0  # nothing above is a token write


def test_remove_and_missing_accounts(store: Store) -> None:
    acc = store.add(record())
    store.remove(acc.id)
    assert store.get(acc.id) is None and store.list() == []
    for call in (
        lambda: store.remove(acc.id),
        lambda: store.touch(acc.id, 1.0),
        lambda: store.update_quota(acc.id, {}),
        lambda: store.set_status(acc.id, "disabled"),
        lambda: store.set_proxy(acc.id, None),
        lambda: store.update_tokens(
            acc.id, access_token=None, refresh_token=None, id_token=None, expires_at=None, expected_version=0
        ),
    ):
        with pytest.raises(AccountNotFound):
            call()


def test_record_repr_never_shows_a_token(store: Store) -> None:
    acc = store.add(record())
    assert "at-alice" not in repr(acc) and "rt-alice" not in repr(store.list())
