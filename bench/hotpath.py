"""Where a gateway's CPU per request goes, beside the yardstick: the hot path's workbench (issue 12).

Not the benchmark (``run.py`` holds the targets); three tools for the work between its runs, each
against its own simulator in burst mode, every server with one worker unless told::

  .venv/bin/python bench/hotpath.py ab [--tree NAME=SRC[+VAR=value...] ...] [--rounds 3] [--n 2000]
                                       [--workers 1] [--env VAR=value] [--no-yardstick]
  .venv/bin/python bench/hotpath.py calls chat|responses [--tree SRC | --yardstick] [--n 1000] [--save F]
  .venv/bin/python bench/hotpath.py spy chat|responses [--tree SRC] [--seconds 20] [--lines]
  .venv/bin/python bench/hotpath.py ir [--tree NAME=SRC[+VAR=value...] ...] [--n 300] [--save DIR]

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
* ``ir``: instructions per request, counted by valgrind's callgrind (``apt install valgrind``):
  each server (one worker, ``PYTHONHASHSEED=0``) runs under callgrind, counting only while it
  serves ``--n`` streams of 8 and of 200 deltas; fixed instructions per request and per event
  follow as in ``ab``. A count, not a time: it repeats to about 0.5 % where ``ab``'s CPU time
  moves ±10 µs (±4 %), so it resolves a change of a microsecond or two; what it cannot see is
  the cost of cache misses and system calls' time in the kernel. ``--save DIR`` keeps each
  dump for ``callgrind_annotate``.
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
#: bytecodes executed per function instead of cProfile (``sys.settrace`` with opcode events),
#: the same signals; written as JSON rows (file, line, name, opcodes, calls)
COUNTED = (
    "import collections, os, signal, sys\n"
    "ops, calls = collections.Counter(), collections.Counter()\n"
    "def local(frame, event, arg):\n"
    "    if event == 'opcode':\n"
    "        ops[frame.f_code] += 1\n"
    "    return local\n"
    "def entered(frame, event, arg):\n"
    "    frame.f_trace_opcodes = True\n"
    "    calls[frame.f_code] += 1\n"
    "    return local\n"
    "def dump(*a):\n"
    "    sys.settrace(None)\n"
    "    import orjson\n"
    "    rows = [(c.co_filename, c.co_firstlineno, c.co_qualname, n, calls[c]) for c, n in ops.items()]\n"
    "    open(os.environ['PROFILE_OUT'], 'wb').write(orjson.dumps(rows))\n"
    "signal.signal(signal.SIGUSR1, lambda *a: sys.settrace(entered))\n"
    "signal.signal(signal.SIGUSR2, dump)\n"
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
    procs: Procs,
    name: str,
    src: Path,
    sim: str,
    code: str | None = None,
    workers: int = 1,
    wrap: tuple[str, ...] = (),
    **env: str,
) -> tuple[Proc, str]:
    """``wrap``: the command the server runs under (valgrind), if any."""
    port = free_port()
    head = [PYTHON, "-c", code] if code else [PYTHON, "-m", "gptgate"]
    if env.get("HOTPATH_ABLATE") and not code:
        head = [PYTHON, str(Path(__file__).with_name("ablate.py"))]  # parts switched off (ablate.py)
    argv = [*wrap, *head, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    proc = procs.start(
        name, argv, gateway_env(src, sim, PROFILE_OUT=str(procs.log_dir / f"{name}.prof"), **env)
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", proc, timeout=120.0 if wrap else 20.0)
    return proc, base


def start_yardstick(
    procs: Procs,
    sim: str,
    profiled: bool = False,
    workers: int = 1,
    wrap: tuple[str, ...] = (),
    opcodes: bool = False,
    **env: str,
) -> tuple[Proc, str]:
    port = free_port()
    env = clean_env(UPSTREAM_URL=sim + CODEX_PATH, PROFILE_OUT=str(procs.log_dir / "profiled.prof"), **env)
    code = (
        COUNTED + PROFILED_YARDSTICK[PROFILED_YARDSTICK.index("import runpy") :]
        if opcodes
        else PROFILED_YARDSTICK
    )
    head = [PYTHON, "-c", code, str(FLOOR_RELAY)] if profiled else [PYTHON, str(FLOOR_RELAY)]
    proc = procs.start("yardstick", [*wrap, *head, "--port", str(port), "--workers", str(workers)], env)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/health", proc, timeout=120.0 if wrap else 20.0)
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


def trees_of(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """``--tree NAME=SRC[+VAR=value...]``: each tree's name, then its src and its own settings."""
    return [(name, rest.split("+")) for name, _, rest in (t.partition("=") for t in args.tree)]


def ab(args: argparse.Namespace, procs: Procs) -> None:
    trees = trees_of(args)
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
            proc, base = start_yardstick(procs, sim, profiled=True, opcodes=args.opcodes)
        else:
            code = COUNTED + PROFILED[PROFILED.index("from gptgate") :] if args.opcodes else PROFILED
            proc, base = start_gateway(procs, "profiled", Path(args.tree), sim, code)
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
    if args.opcodes:
        opcodes(orjson.loads(out.read_bytes()), args.n)
        return
    stats = pstats.Stats(str(out))
    rows = stats.stats  # type: ignore[attr-defined]
    total = sum(v[1] for v in rows.values())
    print(f"Python calls per request: {total / args.n:.0f} (under cProfile: times are inflated)")
    for (path, line, func), (_, count, own, cum, _) in sorted(rows.items(), key=lambda kv: -kv[1][2])[:40]:
        where = path.split("site-packages/")[-1].split("/src/")[-1]
        print(
            f"{count / args.n:7.2f} calls {own / args.n * 1e6:7.2f} µs own {cum / args.n * 1e6:8.2f} µs  {where}:{line}({func})"
        )


def opcodes(rows: list[tuple[str, int, str, int, int]], n: int) -> None:
    """Bytecodes executed per request: by part, then the functions that execute the most."""
    parts: collections.Counter[str] = collections.Counter()
    for path, _, _, ops, _ in rows:
        parts[next((part for part, marks in PARTS if any(m in path for m in marks)), "other")] += ops
    print(f"bytecodes per request: {sum(parts.values()) / n:,.0f}")
    for part, ops in parts.most_common():
        print(f"  {ops / n:8,.0f}  {part}")
    for path, line, name, ops, count in sorted(rows, key=lambda r: -r[3])[:50]:
        where = path.split("site-packages/")[-1].split("/src/")[-1]
        print(f"{ops / n:8.1f} ops {count / n:6.2f} calls  {where}:{line}({name})")


#: callgrind, counting nothing until told (``callgrind_control -i on``)
CALLGRIND = ("valgrind", "--tool=callgrind", "--instr-atstart=no")


def _callgrind(pid: int, *command: str) -> None:
    import subprocess

    subprocess.run(["callgrind_control", *command, str(pid)], check=True, capture_output=True, timeout=120)


def _counted(proc: Proc, url: str, body: bytes, n: int, dump_dir: Path, label: str) -> float:
    """Instructions per stream while ``proc`` serves ``n`` streams to ``url``."""
    before = set(dump_dir.glob(f"{label}.*"))
    _callgrind(proc.pid, "-i", "on")
    failed = asyncio.run(load(url, body, n, concurrency=8))
    _callgrind(proc.pid, "-d")
    _callgrind(proc.pid, "-i", "off")
    if failed:
        print(f"{label}: {failed} failed streams", file=sys.stderr)
    (dump,) = set(dump_dir.glob(f"{label}.*")) - before
    totals = next(line for line in dump.read_text().splitlines() if line.startswith("totals:"))
    return int(totals.split()[1]) / n


def ir(args: argparse.Namespace, procs: Procs) -> None:
    trees = trees_of(args)
    dump_dir = Path(args.save) if args.save else procs.log_dir
    dump_dir.mkdir(parents=True, exist_ok=True)
    with simulator(procs) as sim:
        servers: dict[str, tuple[Proc, str]] = {}
        for name, (src, *own) in trees:
            out = f"--callgrind-out-file={dump_dir / name}.%p"
            servers[name] = start_gateway(
                procs, name, Path(src), sim, wrap=(*CALLGRIND, out), PYTHONHASHSEED="0",
                **dict(e.split("=", 1) for e in own),
            )  # fmt: skip
        if not args.no_yardstick:
            out = f"--callgrind-out-file={dump_dir}/yardstick.%p"
            servers["yardstick"] = start_yardstick(procs, sim, wrap=(*CALLGRIND, out), PYTHONHASHSEED="0")
        cases = [
            (name, door)
            for name in servers
            for door in (("chat",) if name == "yardstick" else ("chat", "responses"))
        ]
        counts: dict[tuple[str, str, int], float] = {}
        for name, door in cases:
            proc, base = servers[name]
            url = base + PATHS[door]
            asyncio.run(load(url, body_of(door, 8), 100, concurrency=8))  # warm-up, not counted
            for deltas in (8, 200):
                n = args.n if deltas == 8 else max(20, args.n // 10)
                counts[(name, door, deltas)] = _counted(proc, url, body_of(door, deltas), n, dump_dir, name)
    print("contender / door: fixed instructions per request, per event (× the yardstick's)")
    base_fixed = base_event = None
    if ("yardstick", "chat", 8) in counts:
        low, high = counts[("yardstick", "chat", 8)], counts[("yardstick", "chat", 200)]
        base_event = (high - low) / 192
        base_fixed = low - base_event * (8 + FIXED_EVENTS)
    for name, door in cases:
        low, high = counts[(name, door, 8)], counts[(name, door, 200)]
        per_event = (high - low) / 192
        fixed = low - per_event * (8 + FIXED_EVENTS)
        ratios = (
            f"  ({fixed / base_fixed:.3f}×, {per_event / base_event:.3f}×)"
            if base_fixed and base_event
            else ""
        )
        print(f"{name:<12} {door:<9} {fixed:10,.0f} {per_event:8,.0f}{ratios}")


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
    one = commands.add_parser("ir", help="instructions per request and per event (callgrind)")
    one.add_argument(
        "--tree", action="append", default=[], help="NAME=SRC[+VAR=value...] (default: this checkout)"
    )
    one.add_argument("--n", type=int, default=300, help="8-delta streams counted (200-delta: a tenth)")
    one.add_argument("--no-yardstick", action="store_true")
    one.add_argument("--save", help="keep the callgrind dumps in this directory")
    for name, help_ in (("calls", "cProfile: Python calls per request"), ("spy", "py-spy: where CPU goes")):
        sub = commands.add_parser(name, help=help_)
        sub.add_argument("door", choices=sorted(PATHS))
        sub.add_argument("--tree", default=str(ROOT / "src"), help="the src directory to serve")
        sub.add_argument("--n", type=int, default=1000)
        sub.add_argument("--seconds", type=int, default=20)
        sub.add_argument("--lines", action="store_true", help="spy: by line, not by function")
        sub.add_argument("--yardstick", action="store_true", help="calls: profile the yardstick (chat)")
        sub.add_argument("--save", help="calls: keep the cProfile output at this path (for pstats)")
        sub.add_argument("--opcodes", action="store_true", help="calls: bytecodes executed, not cProfile")
    args = parser.parse_args()
    if args.command in ("ab", "ir") and not args.tree:
        args.tree = [f"head={ROOT / 'src'}"]
    with tempfile.TemporaryDirectory(prefix="gptgate-profile-") as scratch:
        procs = Procs(Path(scratch))
        try:
            {"ab": ab, "calls": calls, "spy": spy, "ir": ir}[args.command](args, procs)
        finally:
            procs.stop_all()


if __name__ == "__main__":
    main()
