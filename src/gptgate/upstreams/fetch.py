"""Remote URLs a client asks the gateway to read (an image or a file by URL), without letting a
client reach what only the gateway can reach (server-side request forgery).

Limits: the body's size (``fetch_max_mb``), its type (an image must be png, jpeg, gif or webp),
the whole fetch's time (``fetch_timeout``), at most :data:`MAX_REDIRECTS` redirects. Addresses:
loopback, link-local (169.254.169.254, the cloud metadata service), private, shared (CGNAT),
multicast, reserved and unspecified addresses are refused, IPv4 and IPv6 alike, an IPv4 address
mapped into IPv6 judged as the IPv4 one, unless ``fetch_allow_private`` is on.

No DNS-rebinding window: a name is resolved by the connector's own resolver
(:class:`CheckedResolver`), which refuses the name if any of its addresses is refused, and the
connection goes to an address it checked (no DNS cache, no second lookup). Redirects are
followed by hand, each hop checked the same way. Through an egress proxy (``fetch_proxy``,
chat2api's ``EXPORT_PROXY_URL``) the proxy connects, so the gateway resolves and checks the name
first (the proxy's own lookup could in principle differ: an operator who sets a proxy trusts it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, urljoin, urlsplit

import aiohttp
import aiohttp_socks
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from gptgate import errors
from gptgate.files.media import sniff_mime
from gptgate.upstreams.egress import check_proxy

MAX_REDIRECTS: Final = 3
REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
IMAGE_TYPES: Final = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class FetchRefused(errors.RequestError):
    """A URL the gateway will not read, or could not read: the client's request is at fault."""

    code = "invalid_url"


def address_refusal(address: str) -> str | None:
    """Why a connection to this literal address is refused (None: a public address)."""
    try:
        ip: _Address = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, why in (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "a shared (carrier-grade NAT) address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "a non-public address"),
    ):
        if test:
            return f"{ip} is {why}"
    return None


class AddressRefused(OSError):
    """Raised by the resolver: the name leads to a refused address."""


class CheckedResolver(AbstractResolver):
    """Resolves as aiohttp does, then refuses a name any of whose addresses is refused."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = DefaultResolver()
        self._allow = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if not self._allow:
            for entry in found:
                why = address_refusal(entry["host"])
                if why is not None:
                    raise AddressRefused(f"{host} resolves to {why}")
        return found

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True, slots=True)
class Fetched:
    data: bytes
    mime: str
    name: str


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    max_bytes: int = 20 * 1024 * 1024
    timeout: float = 30.0
    allow_private: bool = False
    proxy: str | None = None


class Fetcher:
    """Reads remote URLs under a :class:`FetchPolicy`; one client session, made on first use."""

    def __init__(self, policy: FetchPolicy) -> None:
        if policy.proxy is not None:
            check_proxy(policy.proxy)
        self.policy = policy
        self._session: aiohttp.ClientSession | None = None
        self._resolver = CheckedResolver(policy.allow_private)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            proxy = self.policy.proxy
            connector: aiohttp.BaseConnector
            if proxy is not None and proxy.startswith("socks"):
                connector = aiohttp_socks.ProxyConnector.from_url(proxy, rdns=False)
            elif proxy is not None:
                connector = aiohttp.TCPConnector(limit=64)
            else:
                connector = aiohttp.TCPConnector(limit=64, resolver=self._resolver, use_dns_cache=False)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
        return self._session

    async def fetch(self, url: str, field: str, *, image: bool) -> Fetched:
        """The body at ``url``; ``FetchRefused`` (400, naming ``field``) for a refused or failed one."""
        try:
            async with asyncio.timeout(self.policy.timeout):
                return await self._follow(url, field, image)
        except TimeoutError:
            raise FetchRefused(
                f"'{field}': the URL did not answer within {self.policy.timeout:g} seconds.", param=field
            ) from None

    async def _follow(self, url: str, field: str, image: bool) -> Fetched:
        for _hop in range(MAX_REDIRECTS + 1):
            await self._check_url(url, field)
            proxy = (
                self.policy.proxy if self.policy.proxy and not self.policy.proxy.startswith("socks") else None
            )
            try:
                async with self._client().get(url, allow_redirects=False, proxy=proxy) as resp:
                    if resp.status in REDIRECTS and "location" in resp.headers:
                        url = urljoin(url, resp.headers["location"])
                        continue
                    if resp.status != 200:
                        raise _refused(field, f"the URL answered HTTP {resp.status}")
                    data = await self._body(resp, field)
                    header = resp.headers.get("content-type", "")
            except AddressRefused as exc:
                raise _refused(field, f"refused: {exc}{_HINT}", code="url_not_allowed") from None
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, AddressRefused):
                    raise _refused(field, f"refused: {exc.os_error}{_HINT}", code="url_not_allowed") from None
                raise _refused(field, f"cannot connect to {urlsplit(url).hostname}") from None
            except aiohttp.ClientError as exc:
                raise _refused(field, f"the URL could not be read ({exc.__class__.__name__})") from None
            return _typed(data, header, url, field, image)
        raise _refused(field, f"more than {MAX_REDIRECTS} redirects")

    async def _check_url(self, url: str, field: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _refused(field, "only http and https URLs can be fetched")
        if self.policy.allow_private:
            return
        host = parts.hostname
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            if self.policy.proxy is not None:  # the proxy connects: check the name here first
                try:
                    await self._resolver.resolve(host, parts.port or 0, socket.AF_UNSPEC)
                except AddressRefused as exc:
                    raise _refused(field, f"refused: {exc}{_HINT}", code="url_not_allowed") from None
                except OSError:
                    raise _refused(field, f"cannot resolve {host}") from None
            return
        why = address_refusal(host)
        if why is not None:
            raise _refused(field, f"refused: {why}{_HINT}", code="url_not_allowed")

    async def _body(self, resp: aiohttp.ClientResponse, field: str) -> bytes:
        limit = self.policy.max_bytes
        if (resp.content_length or 0) > limit:
            raise _too_large(field, limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise _too_large(field, limit)
            chunks.append(chunk)
        return b"".join(chunks)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        await self._resolver.close()


_HINT = " (set fetch_allow_private to allow such addresses)"


def _refused(field: str, why: str, code: str | None = None) -> FetchRefused:
    return FetchRefused(f"'{field}': {why}.", param=field, code=code)


def _too_large(field: str, limit: int) -> FetchRefused:
    return _refused(field, f"the file is larger than {limit / 1048576:g} MiB", code="file_too_large")


def _typed(data: bytes, header: str, url: str, field: str, image: bool) -> Fetched:
    declared = header.split(";", 1)[0].strip().lower()
    mime = sniff_mime(data) or declared or "application/octet-stream"
    if image and mime not in IMAGE_TYPES:
        raise _refused(field, f"not an image (png, jpeg, gif or webp): {mime}", code="invalid_image")
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "file"
    return Fetched(data, mime, name[:200])
