"""Run the gateway: bind once, serve with one or more worker processes sharing the socket."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from gptgate.accounts.model import Account
from gptgate.app import create_app
from gptgate.gateway import Gateway
from gptgate.observability import metrics
from gptgate.observability.logs import configure_logging
from gptgate.settings import Settings

__all__ = ["configure_logging", "run", "serve_socket"]

log = logging.getLogger("gptgate")
ACCESS_FORMAT = '%a "%r" %s %b %Tfs'


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


async def serve_socket(
    settings: Settings, sock: socket.socket, accounts: list[Account] | None, announce: Callable[[], None]
) -> None:
    metrics.configure(label_ids=settings.metrics_label_ids)
    gateway = Gateway(settings, accounts)
    app = create_app(gateway)
    access_log = logging.getLogger("gptgate.access") if settings.log_level == "debug" else None
    runner = web.AppRunner(
        app,
        handler_cancellation=True,
        access_log=access_log,
        access_log_format=ACCESS_FORMAT,
        handle_signals=False,
    )
    await runner.setup()
    await web.SockSite(runner, sock, shutdown_timeout=5.0).start()
    # Everything alive now lives as long as the process: keep it out of the collector's
    # generations (measured: gen2 passes over the startup heap were ~18% of CPU in bursts).
    gc.collect()
    gc.freeze()
    announce()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


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
    _supervise(children)


def _nothing() -> None:
    return None


def _supervise(children: list[int]) -> None:
    def forward(signum: int, frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        metrics.process_dead(pid)
