"""The benchmark's load client: a separate process, so its CPU is never counted against a server.

Started once by ``run.py`` (``python bench/loadgen.py``) and driven over stdin/stdout, one JSON
object per line: it reads a spec, then, by its ``mode``:

* ``burst``: warm up, print ``{"ready": true}``, wait for a line, send ``requests`` streamed
  requests with ``concurrency`` in flight, read and validate every stream to its end, print the
  result (counts, errors, wall time, time to first content token of each stream).
* ``idle``: warm up (open a few streams and hold them), print ready, wait for a line, open
  ``streams`` streams and hold each once its first bytes arrived, print ``{"opened": {...}}``,
  wait for a line, close them all and print the result.

With ``"transport": "ws"`` (burst only) each worker keeps one WebSocket, opened before the
warm-up, and sends its turns over it one after the other: the body is the ``response.create``
frame, and each text frame back is one stream event, validated like a Responses stream's
``data:`` payload.

Validation: a chat stream must end with ``data: [DONE]``, carry ``expect_deltas`` content
deltas and a ``finish_reason``; a Responses stream must carry ``expect_deltas``
``response.output_text.delta`` events and end with ``response.completed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

NO_CONTENT_KEYS = frozenset({"role", "content"})
OPEN_SPACING = 0.001  # seconds between two idle streams' requests: 1,000 opened per second


@dataclass
class Spec:
    mode: str
    url: str
    kind: str  # "chat" | "responses"
    body: bytes
    headers: dict[str, str]
    expect_deltas: int
    requests: int = 0
    concurrency: int = 1
    warmup: int = 0
    timeout: float = 60.0
    deadline: float = 120.0
    streams: int = 0
    open_timeout: float = 30.0
    stagger: float = 0.0  # seconds between the first requests of two workers (measured run only)
    transport: str = "http"  # "http" | "ws" (one kept WebSocket per worker)

    @classmethod
    def parse(cls, raw: str) -> Spec:
        data: dict[str, Any] = orjson.loads(raw)
        data["body"] = orjson.dumps(data["body"])
        return cls(**data)


class StreamError(Exception):
    """A stream that did not validate; the message is the error kind."""


@dataclass
class StreamCheck:
    """Incremental SSE parser + validator of one stream."""

    kind: str
    expect: int
    buf: bytes = b""
    deltas: int = 0
    extra: int = 0
    done: bool = False
    finished: bool = False
    last_type: str = ""
    first_content: float | None = None

    def feed(self, chunk: bytes) -> None:
        buf = self.buf + chunk if self.buf else chunk
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n")
        start = 0
        while (end := buf.find(b"\n\n", start)) >= 0:
            data = [line[5:].strip() for line in buf[start:end].split(b"\n") if line.startswith(b"data:")]
            if data:
                self.record(b"\n".join(data))
            start = end + 2
        self.buf = buf[start:]

    def record(self, data: bytes | str) -> None:
        if self.done:
            raise StreamError("data after end")
        if self.kind == "chat":
            self.chat(data)
        else:
            self.responses(data)

    def chat(self, data: bytes | str) -> None:
        if data == b"[DONE]":
            self.done = True
            return
        obj = orjson.loads(data)
        if "error" in obj:
            raise StreamError("error chunk")
        for choice in obj.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self.deltas += 1
                if self.first_content is None:
                    self.first_content = time.perf_counter()
            if delta.keys() - NO_CONTENT_KEYS:
                self.extra += 1
            if choice.get("finish_reason"):
                self.finished = True

    def responses(self, data: bytes | str) -> None:
        obj = orjson.loads(data)
        kind = obj.get("type", "")
        if kind == "response.output_text.delta":
            self.deltas += 1
            if self.first_content is None:
                self.first_content = time.perf_counter()
        self.last_type = kind
        if kind in ("response.completed", "response.failed", "response.incomplete", "error"):
            self.done = True

    def verdict(self) -> None:
        if self.buf.strip():
            raise StreamError("trailing bytes")
        if not self.done:
            raise StreamError("no end")
        if self.kind == "chat" and not self.finished:
            raise StreamError("no finish_reason")
        if self.kind == "responses" and self.last_type != "response.completed":
            raise StreamError(f"ended with {self.last_type}")
        if self.deltas != self.expect:
            raise StreamError(f"deltas {self.deltas}!={self.expect}")


@dataclass
class Tally:
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    ttft: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    extra_chunks: int = 0


async def one_stream(session: aiohttp.ClientSession, spec: Spec, tally: Tally | None) -> None:
    check = StreamCheck(spec.kind, spec.expect_deltas)
    start = time.perf_counter()
    try:
        async with session.post(spec.url, data=spec.body, headers=spec.headers) as resp:
            if resp.status != 200:
                await resp.read()
                raise StreamError(f"http {resp.status}")
            async for chunk in resp.content.iter_any():
                check.feed(chunk)
        check.verdict()
    except (StreamError, aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
        tally_stream(tally, check, start, exc)
        return
    tally_stream(tally, check, start, None)


Turn = Callable[[int, "Tally | None"], Awaitable[None]]


def tally_stream(tally: Tally | None, check: StreamCheck, start: float, error: Exception | None) -> None:
    """Count one stream (or turn): its error kind, or its latency and time to first content."""
    if tally is None:
        return
    if error is not None:
        tally.errors[str(error) if isinstance(error, StreamError) else type(error).__name__] += 1
        return
    tally.ok += 1
    tally.latency.append(time.perf_counter() - start)
    tally.extra_chunks += check.extra
    if check.first_content is not None:
        tally.ttft.append(check.first_content - start)


class Sockets:
    """One WebSocket per worker, opened before the warm-up and kept for the measured run; a
    socket that failed is opened again for its worker's next turn."""

    def __init__(self, session: aiohttp.ClientSession, spec: Spec) -> None:
        self.session, self.spec = session, spec
        self.open: dict[int, aiohttp.ClientWebSocketResponse] = {}

    async def connect(self, index: int) -> aiohttp.ClientWebSocketResponse:
        ws = self.open.get(index)
        if ws is None or ws.closed:
            ws = await self.session.ws_connect(
                self.spec.url, headers=self.spec.headers, max_msg_size=0, autoping=True
            )
            self.open[index] = ws
        return ws

    async def turn(self, index: int, tally: Tally | None) -> None:
        """One ``response.create`` frame, then its event frames up to the terminal one."""
        check = StreamCheck(self.spec.kind, self.spec.expect_deltas)
        start = time.perf_counter()
        try:
            ws = await self.connect(index)
            await ws.send_str(self.spec.body.decode())
            while not check.done:
                msg = await ws.receive(self.spec.timeout)
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise StreamError(f"ws {msg.type.name.lower()}")
                check.record(msg.data)
            check.verdict()
        except (StreamError, aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
            if index in self.open:
                await self.open.pop(index).close()  # its state is unknown: the next turn reopens
            tally_stream(tally, check, start, exc)
            return
        tally_stream(tally, check, start, None)

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.open.values()), return_exceptions=True)


async def run_many(spec: Spec, turn: Turn, count: int, tally: Tally | None, stagger: float = 0.0) -> None:
    counter = iter(range(count))

    async def worker(index: int) -> None:
        if stagger:
            await asyncio.sleep(index * stagger)
        for _ in counter:
            await turn(index, tally)

    await asyncio.gather(*(worker(i) for i in range(min(spec.concurrency, count))))


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(obj) + b"\n")
    sys.stdout.flush()


async def wait_line() -> str:
    line: str = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if not line:
        raise SystemExit(0)  # the orchestrator went away
    return line


async def burst(spec: Spec) -> None:
    connector = aiohttp.TCPConnector(limit=spec.concurrency, keepalive_timeout=60)
    timeout = aiohttp.ClientTimeout(total=spec.timeout, sock_connect=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        sockets = Sockets(session, spec)
        turn: Turn
        if spec.transport == "ws":
            turn = sockets.turn
            await asyncio.gather(*(sockets.connect(i) for i in range(spec.concurrency)))
        else:

            async def turn(index: int, tally: Tally | None) -> None:
                await one_stream(session, spec, tally)

        try:
            await run_many(spec, turn, spec.warmup, None)
            emit({"ready": True})
            await wait_line()
            tally = Tally()
            start = time.perf_counter()
            try:
                await asyncio.wait_for(
                    run_many(spec, turn, spec.requests, tally, spec.stagger), spec.deadline
                )
            except TimeoutError:
                tally.errors["deadline"] += spec.requests - tally.ok - sum(tally.errors.values())
            wall = time.perf_counter() - start
        finally:
            await sockets.close()
    emit(
        {
            "ok": tally.ok,
            "errors": dict(tally.errors),
            "wall": wall,
            "ttft": tally.ttft,
            "latency": tally.latency,
            "extra_chunks": tally.extra_chunks,
        }
    )


class Holder:
    """Opens ``count`` streams, holds each once its first bytes arrived, closes them on ``release``."""

    def __init__(self, session: aiohttp.ClientSession, spec: Spec, count: int) -> None:
        self.session, self.spec, self.count = session, spec, count
        self.release = asyncio.Event()
        self.status: Counter[str] = Counter()
        self.settled = asyncio.Event()
        if count <= 0:
            self.settled.set()

    def _settle(self, state: str) -> None:
        self.status[state] += 1
        if sum(self.status.values()) >= self.count:
            self.settled.set()

    async def hold(self, index: int) -> None:
        await asyncio.sleep(index * OPEN_SPACING)
        try:
            resp = await self.session.post(self.spec.url, data=self.spec.body, headers=self.spec.headers)
            if resp.status != 200:
                resp.release()
                self._settle(f"http {resp.status}")
                return
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._settle(type(exc).__name__)
            return
        try:
            try:
                first = await asyncio.wait_for(resp.content.readany(), self.spec.open_timeout)
            except TimeoutError:
                self._settle("headers_only")
            except aiohttp.ClientError as exc:
                self._settle(type(exc).__name__)
            else:
                self._settle("open" if first else "closed")
            await self.release.wait()
        finally:
            resp.close()

    async def open_all(self) -> list[asyncio.Task[None]]:
        tasks = [asyncio.ensure_future(self.hold(i)) for i in range(self.count)]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.settled.wait(), self.spec.open_timeout + 30)
        return tasks

    async def close_all(self, tasks: list[asyncio.Task[None]]) -> None:
        self.release.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def idle(spec: Spec) -> None:
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        # the warm-up streams stay open until the end, so that the two RSS readings differ by
        # exactly ``streams`` open streams (a relay that only notices a closed client at its next
        # upstream event would otherwise free warm-up streams between the readings)
        warm = Holder(session, spec, spec.warmup)
        warm_tasks = await warm.open_all()
        emit({"ready": True})
        await wait_line()
        holder = Holder(session, spec, spec.streams)
        tasks = await holder.open_all()
        emit({"opened": dict(holder.status)})
        await wait_line()
        await holder.close_all(tasks)
        await warm.close_all(warm_tasks)
    emit({"ok": holder.status["open"], "errors": {k: v for k, v in holder.status.items() if k != "open"}})


async def serve() -> None:
    """One spec per line on stdin until EOF; each spec is warmed up, then run on the next line."""
    emit({"hello": True})
    while True:
        spec = Spec.parse(await wait_line())
        await (burst(spec) if spec.mode == "burst" else idle(spec))


def main() -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve())
    else:
        uvloop.run(serve())


if __name__ == "__main__":
    main()
