"""Tiny egress proxies on loopback for the tests: HTTP (forward and CONNECT) and SOCKS5.

Both count the connections clients open to them, keep the bytes clients sent through them (so a
test can tell which account's request passed) and check credentials when given some.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import contextlib
import socket
from collections.abc import Awaitable, Callable
from typing import Any, Self
from urllib.parse import urlsplit

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class ProxyServer(abc.ABC):
    """Base: a loopback listener that tracks its handler tasks so ``close()`` ends them all."""

    scheme = ""

    def __init__(self, auth: tuple[str, str] | None = None) -> None:
        self.auth = auth
        self.connections = 0
        self.auth_failures = 0
        self.seen = bytearray()
        self.targets: list[str] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        creds = f"{self.auth[0]}:{self.auth[1]}@" if self.auth else ""
        return f"{self.scheme}://{creds}127.0.0.1:{self.port}"

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._tracked, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _tracked(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            await self.handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    @abc.abstractmethod
    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Speak the proxy protocol with one client (HTTP or SOCKS5)."""

    async def relay(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        target: tuple[str, int],
        first: bytes,
        ready: bytes,
    ) -> bool:
        """Connect to the target, tell the client ``ready``, send ``first`` then copy both ways
        until either side closes. False when the target cannot be reached."""
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            return False
        self.targets.append(f"{target[0]}:{target[1]}")
        writer.write(ready)
        self.seen += first
        up_writer.write(first)

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter, keep: bool) -> None:
            try:
                while data := await src.read(65536):
                    if keep:
                        self.seen += data
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.close()

        await asyncio.gather(copy(reader, up_writer, True), copy(up_reader, writer, False))
        return True


class HttpProxy(ProxyServer):
    """Forward proxy (absolute-form requests, relayed verbatim) and CONNECT tunnels."""

    scheme = "http"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        headers = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (ln.partition(":") for ln in head.decode().split("\r\n")[1:] if ln)
        )
        if self.auth is not None:
            expected = "Basic " + base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
            if headers.get("proxy-authorization") != expected:
                self.auth_failures += 1
                writer.write(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n"
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                await writer.drain()
                return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            ok = await self.relay(
                reader, writer, (host, int(port)), b"", b"HTTP/1.1 200 Connection established\r\n\r\n"
            )
        else:
            url = urlsplit(target)
            ok = await self.relay(reader, writer, (url.hostname or "", url.port or 80), head, b"")
        if not ok:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()


class Socks5Proxy(ProxyServer):
    """RFC 1928 CONNECT with no authentication, or RFC 1929 user/password when ``auth`` is set."""

    scheme = "socks5"

    def __init__(self, auth: tuple[str, str] | None = None, scheme: str = "socks5") -> None:
        super().__init__(auth)
        self.scheme = scheme
        self.domains: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        method = 2 if self.auth is not None else 0
        if method not in methods:
            writer.write(b"\x05\xff")
            return
        writer.write(bytes([5, method]))
        if self.auth is not None and not await self._login(reader, writer):
            return
        _, _, _, kind = await reader.readexactly(4)
        if kind == 1:
            host = socket.inet_ntoa(await reader.readexactly(4))
        elif kind == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
            self.domains.append(host)
        else:
            host = socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
        port = int.from_bytes(await reader.readexactly(2), "big")
        bound = b"\x00\x01" + bytes(6)
        if not await self.relay(reader, writer, (host, port), b"", b"\x05\x00" + bound):
            writer.write(b"\x05\x05" + bound)  # connection refused
            await writer.drain()

    async def _login(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        _, size = await reader.readexactly(2)
        user = (await reader.readexactly(size)).decode()
        password = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        ok = (user, password) == self.auth
        self.auth_failures += not ok
        writer.write(b"\x01\x00" if ok else b"\x01\x01")
        return ok


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
