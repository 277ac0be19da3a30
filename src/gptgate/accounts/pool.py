"""Pick an account per request; cool accounts down; say when the pool is exhausted.

This is the in-process pool over the configured accounts (round robin, skipping cooling ones).
The shared-state pool with strategies, stickiness and refresh builds on the same interface.
"""

from __future__ import annotations

import logging
import time

from gptgate import errors
from gptgate.accounts.model import Account

log = logging.getLogger("gptgate.pool")

#: Cool-down for failures that carry no reset time.
SHORT_COOLDOWN = 30.0
AUTH_COOLDOWN = 300.0


class AccountPool:
    def __init__(self, accounts: list[Account]) -> None:
        self.accounts = accounts
        self._next = 0

    def acquire(self, exclude: set[int] | None = None) -> Account:
        """The next healthy account not in ``exclude`` (ids of accounts already tried)."""
        now = time.time()
        n = len(self.accounts)
        for i in range(n):
            account = self.accounts[(self._next + i) % n]
            if account.cooling(now) or (exclude and id(account) in exclude):
                continue
            self._next = (self._next + i + 1) % n
            account.in_flight += 1
            return account
        raise self._exhausted(now)

    def release(self, account: Account) -> None:
        account.in_flight -= 1

    def penalize(self, account: Account, error: errors.AccountError) -> None:
        """Cool an account down after a credential-scoped failure."""
        if isinstance(error, errors.UsageLimitReached) and error.resets_at:
            until = error.resets_at
        elif isinstance(error, errors.AccountUnauthorized | errors.AccountForbidden):
            until = time.time() + AUTH_COOLDOWN
        else:
            until = time.time() + SHORT_COOLDOWN
        account.cooldown_until = max(account.cooldown_until, until)
        account.cooldown_reason = error.code
        log.warning("account %s cooling down until %d: %s", account.label(), until, error.code)

    def _exhausted(self, now: float) -> errors.PoolExhausted:
        if not self.accounts:
            return errors.PoolExhausted("no ChatGPT account is configured", retry_after=60)
        earliest = min(a.cooldown_until for a in self.accounts)
        wait = max(1.0, earliest - now)
        reasons = sorted({a.cooldown_reason or "cooling" for a in self.accounts})
        return errors.PoolExhausted(
            f"all {len(self.accounts)} account(s) are cooling down ({', '.join(reasons)}); "
            f"the earliest is available again in {int(wait)} s",
            retry_after=wait,
        )
