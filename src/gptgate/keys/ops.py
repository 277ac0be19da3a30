"""Key operations shared by ``gptgate keys`` and the admin API: create and rotate (the only two
that make a secret, returned once and never stored), find, and reading an expiry."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gptgate.keys.model import KeyLimits, KeyRecord
from gptgate.keys.secrets import display_prefix, hash_secret, new_key_id, new_secret
from gptgate.storage.keys import KeyNotFound

if TYPE_CHECKING:
    from gptgate.storage import Store

UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def create(
    store: Store, name: str, limits: KeyLimits, *, expires_at: float | None = None, note: str | None = None
) -> tuple[KeyRecord, str]:
    """A new key and its secret (shown once: only its hash is stored)."""
    if not name.strip():
        raise ValueError("a key needs a name")
    secret = new_secret()
    record = KeyRecord(
        id=new_key_id(),
        name=name.strip(),
        prefix=display_prefix(secret),
        limits=limits,
        note=note,
        expires_at=expires_at,
    )
    return store.keys.add(record, hash_secret(secret)), secret


def rotate(store: Store, id_or_name: str) -> tuple[KeyRecord, str]:
    """A new secret for the key (the old one stops working once workers reload)."""
    record = find(store, id_or_name)
    secret = new_secret()
    return store.keys.rotate(record.id, hash_secret(secret), display_prefix(secret)), secret


def find(store: Store, id_or_name: str) -> KeyRecord:
    record = store.keys.get(id_or_name)
    if record is None:
        raise KeyNotFound(id_or_name)
    return record


def parse_expiry(text: str, now: float | None = None) -> float:
    """``30d``/``12h``/``90m``/``2w`` from now, or an ISO date or time (UTC unless it says)."""
    match = re.fullmatch(r"(\d+)([mhdw])", text.strip())
    if match:
        return (time.time() if now is None else now) + int(match[1]) * UNITS[match[2]]
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"cannot read the expiry {text!r}: give 30d, 12h or 2026-01-31T00:00") from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
