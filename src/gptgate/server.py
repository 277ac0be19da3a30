"""Run the gateway: bind once, serve with one or more worker processes sharing the socket."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import shutil
import signal
import socket
import ssl
import tempfile
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from aiohttp.web_server import Server

from gptgate import SERVER_NAME
from gptgate.accounts.model import Account
from gptgate.app import create_app
from gptgate.collector import TimedCollector
from gptgate.gateway import Gateway
from gptgate.observability import metrics
from gptgate.observability.logs import configure_logging
from gptgate.settings import Settings, is_loopback

__all__ = ["configure_logging", "make_runner", "run", "serve_socket", "ssl_context"]

log = logging.getLogger("gptgate")
#: aiohttp's format for a plain runner's access log (the logging filter hides ``key=`` there);
#: the gateway's own runner logs through :class:`AccessLog`, which never writes the value.
ACCESS_FORMAT = '%a "%r" %s %b %Tfs'
#: What every answer says it comes from: no library or Python version for a scanner to match.
#: The largest request line and header the parser takes (aiohttp's own defaults, stated here).
MAX_LINE = 8190
MAX_FIELD = 8190
#: Connections the kernel queues before they are accepted. The event loop calls listen() again
#: with the site's backlog, so it is passed there too: at aiohttp's 128, a burst of 500 new
#: connections overflowed the queue and the dropped SYNs cost a client a 1 s retransmit (nginx's
#: connect timed out in the topology test).
BACKLOG = 4096


class AccessLog(AbstractAccessLogger):
    """The debug access log: one line per request, the path without its query string's secrets
    (Gemini clients send their key as ``?key=``)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        version = request.version
        self.logger.debug(
            '%s "%s %s HTTP/%d.%d" %d %d %.6fs',
            request.remote,
            request.method,
            redacted_path(request),
            version.major,
            version.minor,
            response.status,
            response.body_length,
            time,
        )


SECRET_PARAMS = frozenset({"key", "api_key", "access_token", "token"})


def redacted_path(request: web.BaseRequest) -> str:
    """The path and query, with the value of every credential-bearing parameter hidden."""
    if not request.query_string:
        return request.path
    parts = [
        f"{name}=[REDACTED]" if name.lower() in SECRET_PARAMS else f"{name}={value}"
        for name, value in request.query.items()
    ]
    return request.path + "?" + "&".join(parts)


class _QuietRequestHandler(RequestHandler):
    """A request the HTTP parser refuses (a malformed or over-long line or header, a bad
    method) is answered with a short JSON error: never the offending bytes (they can hold the
    client's key), never a library version, and logged as one line at INFO, not as a
    traceback at ERROR (a client can send them at will)."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        kind = type(exc).__name__ if exc is not None else "error"
        if status >= 500:
            log.error("request failed outside the application (%s) from %s", kind, request.remote)
        else:
            log.info("malformed HTTP request (%s) from %s", kind, request.remote)
        if request.writer.output_size > 0:
            raise ConnectionError("Response is sent already, cannot send another response")
        text = "Malformed HTTP request." if status < 500 else "The gateway failed to handle this request."
        error = {"message": text, "type": "invalid_request_error" if status < 500 else "api_error"}
        body = orjson.dumps({"error": {**error, "param": None, "code": None}})
        resp = web.Response(status=status, body=body, content_type="application/json")
        resp.headers["Server"] = SERVER_NAME
        resp.force_close()
        return resp

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp's own failures around a request (a body that stops decoding while it is
        drained, a broken pipe): one line with the error's type; a client can cause these."""
        exc = kw.get("exc_info")
        kind = type(exc).__name__ if isinstance(exc, BaseException) else "error"
        message = str(args[0]) % args[1:] if args else "connection error"
        client_side = isinstance(exc, RequestPayloadError | BadHttpMessage | ConnectionError)
        log.log(logging.INFO if client_side else logging.WARNING, "%s (%s)", message, kind)


class _QuietServer(Server):
    def __call__(self) -> RequestHandler:
        return _QuietRequestHandler(self, loop=self._loop, **self._kwargs)


class _Runner(web.AppRunner):
    async def _make_server(self) -> Server:
        server = await super()._make_server()
        server.__class__ = _QuietServer  # same state, our connection handler
        return server


def make_runner(app: web.Application, *, access_log: logging.Logger | None = None) -> web.AppRunner:
    """The gateway's runner: parser limits stated, parser errors answered quietly, answers
    branded ``Server: gptgate`` (by the guard, and by each handler that streams: no
    ``on_response_prepare`` signal, which would run for every answer), the access log (debug
    level) without query secrets."""
    return _Runner(
        app,
        handler_cancellation=True,
        access_log=access_log,
        access_log_class=AccessLog,
        handle_signals=False,
        max_line_size=MAX_LINE,
        max_field_size=MAX_FIELD,
    )


def check_public_keys(settings: Settings) -> None:
    """Refuse to serve a non-loopback address with a blank API key: it would start a server
    that refuses every client (or, were blanks ever matched, one that admits anyone)."""
    if is_loopback(settings.host):
        return
    if any(not key.strip() for key in settings.key_values()):
        raise SystemExit(
            f"refusing to listen on {settings.host}: api_keys holds an empty or blank key; "
            "remove it, or set real keys (gptgate keys create)"
        )


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The server's TLS context when ``tls_cert`` and ``tls_key`` are set (None: plain HTTP).
    Codex CLI signed in with ChatGPT refuses a ``chatgpt_base_url`` that is not https://."""
    if settings.tls_cert is None and settings.tls_key is None:
        return None
    if settings.tls_cert is None or settings.tls_key is None:
        raise SystemExit("tls_cert and tls_key go together: set both, or neither for plain HTTP")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls_cert.expanduser(), settings.tls_key.expanduser())
    return context


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


async def serve_socket(
    settings: Settings, sock: socket.socket, accounts: list[Account] | None, announce: Callable[[], None]
) -> None:
    metrics.configure(label_ids=settings.metrics_label_ids)
    gateway = Gateway(settings, accounts)
    app = create_app(gateway)
    access_log = logging.getLogger("gptgate.access") if settings.log_level == "debug" else None
    runner = make_runner(app, access_log=access_log)
    await runner.setup()
    site = web.SockSite(
        runner,
        sock,
        shutdown_timeout=settings.shutdown_seconds,
        ssl_context=ssl_context(settings),
        backlog=BACKLOG,  # the event loop listens again with this (aiohttp's default: 128)
    )
    await site.start()
    # Everything alive now lives as long as the process: frozen out of the collector's passes
    # (gen2 passes over the startup heap were ~18% of CPU in bursts), and the collector runs on
    # a clock rather than on allocation counts (collector.py)
    collector = TimedCollector()
    collector.start()
    announce()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await drain(gateway, runner, settings.shutdown_seconds)
        collector.stop()


async def drain(gateway: Gateway, runner: web.AppRunner, deadline: float) -> None:
    """Graceful shutdown. The runner's cleanup closes the listening socket (a balancer's next
    connect is refused and goes to another instance), closes idle keep-alive connections, waits
    up to ``deadline`` seconds for the requests and streams in progress, cancels what is left,
    then closes the gateway, which writes the buffered usage rows and quota snapshots.
    ``/readyz`` answers 503 from the start, for connections that are still open."""
    gateway.draining = True
    connections = len(runner.server.connections) if runner.server is not None else 0
    log.info("shutting down: %d connections open, waiting up to %.0f s for them", connections, deadline)
    started = asyncio.get_running_loop().time()
    await runner.cleanup()
    log.info("stopped after %.1f s", asyncio.get_running_loop().time() - started)


def run_loop(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine factory on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())


def run(
    settings: Settings, accounts: list[Account] | None = None, announce: Callable[[int], None] | None = None
) -> None:
    """Serve until SIGTERM/SIGINT. ``announce(port)`` runs once the first worker listens."""
    configure_logging(settings.log_level, settings.log_format, settings.log_file)
    check_public_keys(settings)
    ssl_context(settings)  # a missing or unreadable certificate fails here, before any worker forks
    sock = bind(settings.host, settings.port)
    port = sock.getsockname()[1]

    def ready() -> None:
        if announce is not None:
            announce(port)

    if settings.workers == 1:
        run_loop(lambda: serve_socket(settings, sock, accounts, ready))
        return
    if settings.redis_url is None:
        logging.getLogger("gptgate").warning(
            "%d workers without redis_url: each worker keeps its own cooldowns, sticky sessions and "
            "leases (token refreshes still agree through the store); set redis_url to share them",
            settings.workers,
        )
    metrics_dir = _multiprocess_metrics()
    try:
        _fork_workers(settings, sock, accounts, ready)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.environ.pop(metrics.MULTIPROC_ENV, None)


def _multiprocess_metrics() -> str:
    """A fresh directory where the workers' metrics meet (removed when the server stops)."""
    path = tempfile.mkdtemp(prefix="gptgate-metrics-")
    metrics.use_multiprocess(path)
    return path


def _fork_workers(
    settings: Settings, sock: socket.socket, accounts: list[Account] | None, ready: Callable[[], None]
) -> None:
    children: list[int] = []
    for index in range(settings.workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                hook: Callable[[], None] = ready if index == 0 else _nothing
                run_loop(functools.partial(serve_socket, settings, sock, accounts, hook))
            except BaseException:
                log.exception("worker failed")
                code = 1
            os._exit(code)
        children.append(pid)
    _supervise(children, sock)


def _nothing() -> None:
    return None


def _supervise(children: list[int], sock: socket.socket) -> None:
    def forward(signum: int, frame: object) -> None:
        sock.close()  # the parent's copy too, or the port keeps queueing connections no one accepts
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        metrics.process_dead(pid)
