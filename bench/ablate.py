"""gptgate with parts of its request path switched off, to measure what each costs in a server.

A workbench launcher, never a way to run gptgate: ``HOTPATH_ABLATE`` names the parts to replace
with nothing before the CLI starts (comma-separated), then the arguments are gptgate's own::

  HOTPATH_ABLATE=auth,observers python bench/ablate.py serve --port 8080 --workers 1

``hotpath.py ab --tree NAME=SRC+HOTPATH_ABLATE=...`` starts a tree through it. What is left out
answers wrongly (no limits, no usage, every request on the first account): a measurement only.

* ``auth``: no client authentication (the guard's ``authorize``);
* ``observers``: no admission or closing observers (key limits, usage records, metrics counts);
* ``session``: no derived session key (a conversation's hash);
* ``pool``: no lease (the first account, no cooldowns, no sticky sessions, no release);
* ``keepalive``: streams are not registered with the keep-alive ticker.

``GPTGATE_METRICS=false`` (a setting) leaves metrics out as well.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

PARTS = frozenset({"auth", "observers", "session", "pool", "keepalive"})


async def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def _none(*args: Any, **kwargs: Any) -> None:
    return None


class _NoTicker:
    """A ticker that watches nothing: each stream gets its ``KeepAlive``, never registered."""

    time = staticmethod(time.monotonic)

    def watch(self, resp: Any, payload: bytes) -> Any:
        from gptgate.streaming.keepalive import KeepAlive

        return KeepAlive(resp, payload)

    def discard(self, stream: object) -> None:
        return None


def ablate(parts: set[str]) -> None:
    unknown = parts - PARTS
    if unknown:
        raise SystemExit(f"ablate: unknown parts {sorted(unknown)} (known: {sorted(PARTS)})")
    if "auth" in parts:
        from gptgate import guard

        guard.authorize = _none  # type: ignore[assignment]
    if "observers" in parts:
        from gptgate.dispatch.context import Observers

        Observers.add = _none  # type: ignore[method-assign]  # none registered: none admits or closes
        Observers.admit = _nothing  # type: ignore[method-assign]
        Observers.call_closed = _nothing  # type: ignore[method-assign]
    if "session" in parts:
        from gptgate.dispatch import dispatcher

        dispatcher.session_for = lambda request, call: None  # type: ignore[assignment,return-value]
    if "pool" in parts:
        from gptgate.accounts.pool import AccountPool

        async def first(self: AccountPool, *args: Any, **kwargs: Any) -> Any:
            return self.accounts[0]

        AccountPool.acquire = first  # type: ignore[method-assign]
        AccountPool.acquire_now = lambda self, *args: self.accounts[0]  # type: ignore[method-assign]
        AccountPool.release = _nothing  # type: ignore[method-assign]
        AccountPool.release_now = _none  # type: ignore[method-assign]
    if "keepalive" in parts:
        from gptgate.streaming import relay

        relay.ticker_for = lambda interval: _NoTicker()  # type: ignore[assignment,return-value]


def main() -> None:
    ablate({p for p in os.environ.get("HOTPATH_ABLATE", "").split(",") if p})
    from gptgate.cli import main as cli

    sys.argv = ["gptgate", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()
