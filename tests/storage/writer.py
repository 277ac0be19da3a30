"""A separate process writing to a store, for the durability and concurrency tests.

``python -m tests.storage.writer URL rotate ID`` stores new tokens, prints ``stored`` and waits
to be killed; ``... hammer ID N`` makes N token compare-and-sets (re-reading on a lost race)
plus quota and touch writes, then prints how many token writes it won. The key comes from
``GPTGATE_TEST_KEY``.
"""

from __future__ import annotations

import os
import sys
import time

from gptgate.storage import StaleTokenVersion, TokenCipher, key_from_text, open_store


def main(url: str, mode: str, id_: str, count: str = "0") -> None:
    store = open_store(url, TokenCipher(key_from_text(os.environ["GPTGATE_TEST_KEY"])))
    if mode == "rotate":
        store.update_tokens(
            id_, access_token="at-new", refresh_token="rt-rotated", id_token=None, expires_at=None,
            expected_version=0,
        )  # fmt: skip
        print("stored", flush=True)
        time.sleep(60)
        return
    won = 0
    for i in range(int(count)):
        record = store.get(id_)
        assert record is not None
        try:
            store.update_tokens(
                id_, access_token=f"at-{os.getpid()}-{i}", refresh_token=f"rt-{i}", id_token=None,
                expires_at=None, expected_version=record.token_version,
            )  # fmt: skip
            won += 1
        except StaleTokenVersion:
            pass
        store.update_quota(id_, {"primary": {"used_percent": i}})
        store.touch(id_, time.time())
    print(won, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
