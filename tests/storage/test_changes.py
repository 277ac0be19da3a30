"""The store's change counter moves with every change a running worker must see, and only then."""

from __future__ import annotations

from gptgate.storage import AccountRecord, Store


def test_version_counts_account_changes(store: Store) -> None:
    start = store.version()
    record = store.add(AccountRecord(name="a", access_token="tok-a"))
    assert store.version() == start + 1
    store.update_quota(record.id, {"primary": None})
    store.touch(record.id, 1.0)
    assert store.version() == start + 1  # quota snapshots and uses are not changes
    store.set_status(record.id, "disabled", "by hand")
    store.set_proxy(record.id, "http://127.0.0.1:1")
    store.update_tokens(
        record.id,
        access_token="tok-b",
        refresh_token=None,
        id_token=None,
        expires_at=None,
        expected_version=0,
    )
    assert store.version() == start + 4
    store.remove(record.id)
    assert store.version() == start + 5
