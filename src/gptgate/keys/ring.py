"""The key ring: every stored key by the SHA-256 of its secret, in memory, for O(1) auth.

Loaded from the store at start and again whenever the store's change counter moves (the account
manager's ``on_store_change``: every ``reload_seconds``, at once with Redis pub/sub), so a key
created, changed or revoked anywhere reaches every worker without a restart and without a store
query per request. Revoked and expired keys stay in the ring so their holders are told why.

When a key was last used is kept here and written to the store in one batch every
``touch_every`` seconds (never on a request's path).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from gptgate.background import Background
from gptgate.keys.model import ClientKey
from gptgate.keys.secrets import hash_secret

if TYPE_CHECKING:
    from gptgate.storage import Store

log = logging.getLogger("gptgate.keys")

TOUCH_EVERY = 30.0


class KeyRing:
    def __init__(self, store: Store | None, *, touch_every: float = TOUCH_EVERY) -> None:
        self.store = store
        self._by_hash: dict[str, ClientKey] = {}
        #: Whether any key was ever created here: then every request needs a key (revoking the
        #: last key does not open the gateway). Kept with the ring, read on every request.
        self.configured = False
        self._used: dict[str, float] = {}
        self._touch_every = touch_every
        self._toucher = Background()

    def find(self, secret: str) -> ClientKey | None:
        """The key with this secret (revoked and expired ones included), None if none."""
        return self._by_hash.get(hash_secret(secret))

    def used(self, key: ClientKey, when: float) -> None:
        self._used[key.id] = when

    async def reload(self) -> None:
        if self.store is None:
            return
        rows = await asyncio.to_thread(self.store.keys.ring)
        self._by_hash = {secret_hash: record.client_key() for secret_hash, record in rows}
        self.configured = bool(self._by_hash)

    async def start(self) -> None:
        await self.reload()
        if self.store is not None:
            self._toucher.start(self._touch_forever)

    async def _touch_forever(self) -> None:
        while True:
            await asyncio.sleep(self._touch_every)
            await self.flush()

    async def flush(self) -> None:
        used, self._used = self._used, {}
        if used and self.store is not None:
            try:
                await asyncio.to_thread(self.store.keys.touch, used)
            except Exception as exc:
                log.warning("cannot record when keys were last used: %s", exc)

    async def close(self) -> None:
        await self._toucher.stop()
        await self.flush()
