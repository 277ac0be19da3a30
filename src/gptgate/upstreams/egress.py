"""Egress: which proxy an account's upstream traffic leaves through, and which base URL it goes to.

Proxy: an account's own ``proxy`` wins; an account without one takes one from the global list
(setting ``proxies``), chosen by CRC-32 of its id, which is the same in every process and after
a restart, so the account keeps one egress IP; with neither it goes direct. Schemes: ``http``,
``https``, ``socks4``, ``socks4a``, ``socks5``, ``socks5h`` (remote DNS), with optional
``user:pass@``. A password never reaches a log line or an error: ``mask`` hides it.

Base URLs: ``BaseURLs`` keeps a per-process "down until" mark per upstream base. A request
tries the healthy bases in configured order, then the ones marked down (each once); a base that
failed (connection error, timeout before the first byte, 5xx) is marked down for a while so
later requests start with a healthy one, and when every base is down the first comes first.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from gptgate import errors
from gptgate.accounts.model import Account

SCHEMES = frozenset({"http", "https", "socks4", "socks4a", "socks5", "socks5h"})
PROXY_COOLDOWN = 30.0


class EgressProxyUnavailable(errors.AccountError):
    """The account's egress proxy failed (unreachable, timed out, refused the credentials): the
    account cannot be served through it for a while; another account may serve the request."""

    code = "egress_proxy_unavailable"


def mask(url: str) -> str:
    """``socks5://user:secret@host:1080`` -> ``socks5://user:***@host:1080`` (safe to print; any URL)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<malformed proxy URL>"
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname or ''}" + (f":{port}" if port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def check_proxy(url: str) -> str:
    """``url`` if it names a usable proxy, else ``ValueError`` (the password masked)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"malformed proxy URL {mask(url)}") from exc
    if parts.scheme not in SCHEMES:
        raise ValueError(f"proxy {mask(url)}: the scheme must be one of {', '.join(sorted(SCHEMES))}")
    if not parts.hostname:
        raise ValueError(f"proxy {mask(url)}: no host")
    if port is None and parts.scheme.startswith("socks"):
        raise ValueError(f"proxy {mask(url)}: a SOCKS proxy needs a port")
    return url


class Egress:
    """The proxy each account's upstream requests go through (None: direct)."""

    __slots__ = ("_proxies",)

    def __init__(self, proxies: Sequence[str] = ()) -> None:
        self._proxies = tuple(check_proxy(p) for p in proxies)

    def proxy_for(self, account: Account) -> str | None:
        if account.proxy:
            return account.proxy
        proxies = self._proxies
        if not proxies:
            return None
        return proxies[zlib.crc32(account.id.encode()) % len(proxies)]


class BaseURLs:
    """Upstream base URLs in preference order with an in-memory health mark each."""

    __slots__ = ("_all", "_any_down", "_down_for", "_until", "urls")

    def __init__(self, urls: Sequence[str], *, down_for: float) -> None:
        unique = list(dict.fromkeys(u.rstrip("/") for u in urls))
        if not unique:
            raise ValueError("at least one upstream base URL is needed")
        self.urls = tuple(unique)
        self._all = tuple(range(len(unique)))
        self._until = [0.0] * len(unique)
        self._any_down = False
        self._down_for = down_for

    def order(self) -> Sequence[int]:
        """Indexes to try: healthy ones first (configured order), then those marked down."""
        if not self._any_down:
            return self._all
        now = time.monotonic()
        healthy = [i for i in self._all if self._until[i] <= now]
        if len(healthy) == len(self._all):
            self._any_down = False
            return self._all
        return healthy + [i for i in self._all if self._until[i] > now]

    def down(self, index: int) -> None:
        if len(self._all) > 1:
            self._until[index] = time.monotonic() + self._down_for
            self._any_down = True

    def up(self, index: int) -> None:
        if self._any_down and self._until[index]:
            self._until[index] = 0.0
