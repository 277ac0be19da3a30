"""Where a gateway's CPU per request goes, beside the yardstick: the hot path's workbench (issue 12).

Not the benchmark (``run.py`` holds the targets); three tools for the work between its runs, each
against its own simulator in burst mode, every server with one worker unless told::

  .venv/bin/python bench/hotpath.py ab [--tree NAME=SRC[+VAR=value...] ...] [--rounds 3] [--n 2000]
                                       [--workers 1] [--env VAR=value] [--no-yardstick]
  .venv/bin/python bench/hotpath.py calls chat|responses [--tree SRC | --yardstick] [--n 1000] [--save F]
  .venv/bin/python bench/hotpath.py spy chat|responses [--tree SRC] [--seconds 20] [--lines]

* ``ab``: fixed CPU per request and CPU per event of each gptgate tree (a ``src`` directory: a
  worktree of the commit to compare, ``git worktree add --detach /tmp/wt-a REV``; ``+VAR=value``
  sets that tree's server only, ``--env`` every tree's; ``+HOTPATH_ABLATE=auth,pool,...`` serves the
  tree with those parts switched off, see ``ablate.py``) and of the yardstick, from interleaved
  rounds of 8- and 200-delta streams (the servers' CPU from ``/proc``, workers included; ticks are
  10 ms, so ``--n 2000`` resolves about 5 µs per request; trust what repeats). ``--workers 2`` is
  the benchmark's own shape, and costs gptgate more than the yardstick (see bench/README.md).
* ``calls``: one gateway (or ``--yardstick``) under cProfile for ``--n`` requests (switched on
  after a warm-up): Python calls per request, which do not depend on the machine's load, and the
  top functions; ``--save`` keeps the profile for ``pstats``.
* ``spy``: py-spy samples of one worker while it serves; where the CPU goes by part (our Python,
  aiohttp client, aiohttp server, event loop, socket writes) and by function (``--lines``: line).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import pstats
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import orjson
from contenders import CODEX_PATH, FLOOR_RELAY, PYTHON, ROOT, chat_body, clean_env, responses_body
from procs import Proc, Procs, free_port, tree_cpu_seconds, wait_http

PATHS = {"chat": "/v1/chat/completions", "responses": "/v1/responses"}
#: events of a simulated turn besides its deltas (contenders.FIXED_EVENTS)
FIXED_EVENTS = 8
#: the gateway under cProfile: SIGUSR1 starts the profile, SIGUSR2 stops it and writes it out
PROFILED = (
    "import cProfile, os, signal, sys\n"
    "p = cProfile.Profile()\n"
    "signal.signal(signal.SIGUSR1, lambda *a: p.enable())\n"
    "signal.signal(signal.SIGUSR2, lambda *a: (p.disable(), p.dump_stats(os.environ['PROFILE_OUT'])))\n"
    "from gptgate.cli import main\n"
    "sys.argv = ['gptgate', *sys.argv[1:]]\n"
    "main()\n"
)
#: the yardstick under cProfile, the same signals
PROFILED_YARDSTICK = PROFILED.split("from gptgate")[0] + (
    "import runpy\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def gateway_env(src: Path, simulator: str, **extra: str) -> dict[str, str]:
    return clean_env(
        PYTHONPATH=str(src),
        GPTGATE_CODEX_BASE_URL=simulator + "/backend-api/codex",
        GPTGATE_FETCH_UPSTREAM_MODELS="false",
        GPTGATE_REASONING_SUMMARY="none",
        GPTGATE_ACCOUNT_STORE="false",
        GPTGATE_ACCESS_TOKEN="bench",
        GPTGATE_LOG_LEVEL="warning",
        **extra,
    )


@contextmanager
def simulator(procs: Procs) -> Iterator[str]:
    port = free_port()
    argv = [PYTHON, "-m", "gptgate", "simulate", "--host", "127.0.0.1", "--port", str(port)]
    proc = procs.start("sim", [*argv, "--mode", "burst", "--no-auth", "--no-record"])
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/_sim/stats", proc)
    yield base


def start_gateway(
    procs: Procs, name: str, src: Path, sim: str, code: str | None = None, workers: int = 1, **env: str
) -> tuple[Proc, str]:
    port = free_port()
    head = [PYTHON, "-c", code] if code else [PYTHON, "-m", "gptgate"]
    if env.get("HOTPATH_ABLATE") and not code:
        head = [PYTHON, str(Path(__file__).with_name("ablate.py"))]  # parts switched off (ablate.py)
    argv = [*head, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    proc = procs.start(
        name, argv, gateway_env(src, sim, PROFILE_OUT=str(procs.log_dir / f"{name}.prof"), **env)
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", proc)
    return proc, base


def start_yardstick(procs: Procs, sim: str, profiled: bool = False, workers: int = 1) -> tuple[Proc, str]:
    port = free_port()
    env = clean_env(UPSTREAM_URL=sim + CODEX_PATH, PROFILE_OUT=str(procs.log_dir / "profiled.prof"))
    head = [PYTHON, "-c", PROFILED_YARDSTICK, str(FLOOR_RELAY)] if profiled else [PYTHON, str(FLOOR_RELAY)]
    proc = procs.start("yardstick", [*head, "--port", str(port), "--workers", str(workers)], env)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/health", proc)
    return proc, base


async def load(url: str, body: bytes, count: int, concurrency: int = 64) -> int:
    """``count`` streams, ``concurrency`` at a time, each read to its end; the failures."""
    failures = 0
    limit = asyncio.Semaphore(concurrency)
    headers = {"content-type": "application/json", "authorization": "Bearer bench"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one() -> None:
            nonlocal failures
            async with limit, http.post(url, data=body, headers=headers) as resp:
                failures += resp.status != 200
                async for _ in resp.content.iter_any():
                    pass

        await asyncio.gather(*(one() for _ in range(count)))
    return failures


def body_of(door: str, deltas: int) -> bytes:
    return orjson.dumps(chat_body(deltas) if door == "chat" else responses_body(deltas))


def ab(args: argparse.Namespace, procs: Procs) -> None:
    # NAME=SRC, optionally followed by ``+VAR=value`` settings of that tree's server only
    trees = [(name, rest.split("+")) for name, _, rest in (t.partition("=") for t in args.tree)]
    with simulator(procs) as sim:
        extra = dict(e.split("=", 1) for e in args.env)
        servers = {
            name: start_gateway(
                procs,
                name,
                Path(src),
                sim,
                workers=args.workers,
                **extra,
                **dict(e.split("=", 1) for e in own),
            )
            for name, (src, *own) in trees
        }
        if not args.no_yardstick:
            servers["yardstick"] = start_yardstick(procs, sim, workers=args.workers)
        cases = [
            (name, door)
            for name in servers
            for door in (("chat",) if name == "yardstick" else ("chat", "responses"))
        ]
        for name, door in cases:  # warm-up
            asyncio.run(load(servers[name][1] + PATHS[door], body_of(door, 8), 500))
        cpu: dict[tuple[str, str, int], list[float]] = collections.defaultdict(list)
        for _ in range(args.rounds):
            for deltas in (8, 200):
                for name, door in cases:
                    proc, base = servers[name]
                    before = tree_cpu_seconds(proc.pid)
                    failed = asyncio.run(load(base + PATHS[door], body_of(door, deltas), args.n))
                    cpu[(name, door, deltas)].append((tree_cpu_seconds(proc.pid) - before) / args.n * 1e6)
                    if failed:
                        print(f"{name} {door}: {failed} failed streams", file=sys.stderr)
    print("contender / door: fixed µs per request, µs per event (medians of the rounds)")
    for name, door in cases:
        low, high = (sorted(cpu[(name, door, d)])[args.rounds // 2] for d in (8, 200))
        per_event = (high - low) / 192
        print(f"{name:<12} {door:<9} {low - per_event * (8 + FIXED_EVENTS):8.1f} {per_event:7.3f}")


def calls(args: argparse.Namespace, procs: Procs) -> None:
    with simulator(procs) as sim:
        if args.yardstick:
            proc, base = start_yardstick(procs, sim, profiled=True)
        else:
            proc, base = start_gateway(procs, "profiled", Path(args.tree), sim, PROFILED)
        url, body = base + PATHS[args.door], body_of(args.door, 8)
        asyncio.run(load(url, body, 500))
        os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(0.3)
        asyncio.run(load(url, body, args.n))
        os.kill(proc.pid, signal.SIGUSR2)
        out = procs.log_dir / "profiled.prof"
        for _ in range(100):
            if out.exists():
                break
            time.sleep(0.1)
        time.sleep(0.5)
    if args.save:
        Path(args.save).write_bytes(out.read_bytes())
    stats = pstats.Stats(str(out))
    rows = stats.stats  # type: ignore[attr-defined]
    total = sum(v[1] for v in rows.values())
    print(f"Python calls per request: {total / args.n:.0f} (under cProfile: times are inflated)")
    for (path, line, func), (_, count, own, cum, _) in sorted(rows.items(), key=lambda kv: -kv[1][2])[:40]:
        where = path.split("site-packages/")[-1].split("/src/")[-1]
        print(
            f"{count / args.n:7.2f} calls {own / args.n * 1e6:7.2f} µs own {cum / args.n * 1e6:8.2f} µs  {where}:{line}({func})"
        )


PARTS = (
    ("socket writes", ("_writelines", "StreamWriter._write ")),
    ("our Python", ("gptgate/", "floor_relay")),
    ("aiohttp client", ("aiohttp/client", "aiohttp/connector", "aiohttp/payload")),
    ("aiohttp server, streams, writer", ("aiohttp/",)),
    ("event loop", ("runners.py",)),
    ("asyncio", ("asyncio/",)),
)


def spy(args: argparse.Namespace, procs: Procs) -> None:
    raw = procs.log_dir / "spy.txt"
    with simulator(procs) as sim:
        proc, base = start_gateway(procs, "spied", Path(args.tree), sim)
        url, body = base + PATHS[args.door], body_of(args.door, 8)
        asyncio.run(load(url, body, 500))
        how = [] if args.lines else ["--function"]
        argv = [str(Path(PYTHON).with_name("py-spy")), "record", "--pid", str(proc.pid), *how]
        argv += ["--format", "raw", "-r", "500", "-d", str(args.seconds), "-o", str(raw), "--nonblocking"]
        spying = procs.start("py-spy", argv)
        deadline = time.monotonic() + args.seconds + 1
        while time.monotonic() < deadline:
            asyncio.run(load(url, body, 1000))
        spying.popen.wait(30)
    parts: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        top = stack.split(";")[-1]
        functions[top] += int(count)
        parts[next((part for part, marks in PARTS if any(m in top for m in marks)), "other")] += int(count)
    total = sum(parts.values()) or 1
    print(f"{total} samples, by part:")
    for part, count in parts.most_common():
        print(f"  {100 * count / total:5.1f} %  {part}")
    print("by function (own time):")
    for function, count in functions.most_common(40):
        print(f"  {100 * count / total:5.1f} %  {function}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("ab", help="fixed CPU per request and per event, trees side by side")
    one.add_argument(
        "--tree", action="append", default=[], help="NAME=SRC[+VAR=value...] (default: this checkout)"
    )
    one.add_argument("--rounds", type=int, default=3)
    one.add_argument("--n", type=int, default=2000)
    one.add_argument("--no-yardstick", action="store_true")
    one.add_argument("--workers", type=int, default=1, help="workers of every server (the benchmark runs 2)")
    one.add_argument("--env", action="append", default=[], help="GPTGATE_X=value for every gptgate tree")
    for name, help_ in (("calls", "cProfile: Python calls per request"), ("spy", "py-spy: where CPU goes")):
        sub = commands.add_parser(name, help=help_)
        sub.add_argument("door", choices=sorted(PATHS))
        sub.add_argument("--tree", default=str(ROOT / "src"), help="the src directory to serve")
        sub.add_argument("--n", type=int, default=1000)
        sub.add_argument("--seconds", type=int, default=20)
        sub.add_argument("--lines", action="store_true", help="spy: by line, not by function")
        sub.add_argument("--yardstick", action="store_true", help="calls: profile the yardstick (chat)")
        sub.add_argument("--save", help="calls: keep the cProfile output at this path (for pstats)")
    args = parser.parse_args()
    if args.command == "ab" and not args.tree:
        args.tree = [f"head={ROOT / 'src'}"]
    with tempfile.TemporaryDirectory(prefix="gptgate-profile-") as scratch:
        procs = Procs(Path(scratch))
        try:
            {"ab": ab, "calls": calls, "spy": spy}[args.command](args, procs)
        finally:
            procs.stop_all()


if __name__ == "__main__":
    main()
