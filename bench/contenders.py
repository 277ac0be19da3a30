"""The simulator, the servers and the contenders of one benchmark run, and how to start them.

Contenders (all against the same simulator, started with ``--no-auth`` so the yardstick, which
sends no ``chatgpt-account-id``, is served exactly like gptgate):

* ``direct``: the load client reads the simulator's Codex SSE itself (the ceiling);
* ``yardstick``: ``shared/bench/floor_relay.py`` (Chat Completions);
* ``gptgate-chat``: gptgate ``/v1/chat/completions``;
* ``gptgate-responses``: gptgate ``/v1/responses`` (pass-through of the Responses stream);
* ``gptgate-chat-curl``: gptgate chat with ``GPTGATE_CODEX_TRANSPORT=curl_cffi``;
* ``gptgate-chat-pool50`` / ``gptgate-responses-pool50`` (burst phase only): gptgate serving a
  pool of 50 accounts from a fresh SQLite account store (``GPTGATE_ACCOUNT_STORE=true``), against
  the one-account figures above;
* ``gptgate-chat-bare`` / ``gptgate-chat-ops`` (burst phase, first worker count only): the
  operator's side off (one account from env, no store, ``GPTGATE_METRICS=false``) and on (one
  account in a fresh store, usage recorded, metrics on, every request made with a stored client
  key whose every limit is set), compared with each other;
* ``gptgate-chat-web`` (burst phase, first worker count only): gptgate chat for a web model
  (``gpt-4o``) through the ChatGPT web upstream (``GPTGATE_CHATGPT_BASE_URLS`` = the simulator,
  which answers in delta encoding v1 with as many text appends as the Codex reply has text
  deltas), against ``gptgate-chat``;
* ``gptgate-responses-ws`` (burst phase, first worker count only): the same Responses turns as
  ``gptgate-responses``, on the same server, each sent as a ``response.create`` frame over one
  client WebSocket per load-client worker (``GET /v1/responses`` upgraded; one frame per stream
  event back), against ``gptgate-responses``.

Every other gptgate server runs with ``GPTGATE_ACCOUNT_STORE=false``: with the store on, gptgate
would open the operator's default store in ``~/.local/share/gptgate``.

gptgate runs with ``GPTGATE_REASONING_SUMMARY=none``: by default it asks translated requests for a
reasoning summary, and the simulator then adds a reasoning item (about ten more events) that the
yardstick never asks for; without it every contender relays the same upstream events.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from procs import Proc, Procs, free_port, wait_http

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GPTGATE = str(Path(PYTHON).with_name("gptgate"))
FLOOR_RELAY = Path(
    os.environ.get("BENCH_FLOOR_RELAY", str(Path(__file__).resolve().parent / "yardstick" / "floor_relay.py"))
)
ACCOUNT = "bench-account"
POOL_SIZE = 50
OPS_ACCOUNT = "bench-ops"
#: Seconds the bare and ops servers are left alone before and after each measured window: the
#: usage recorder writes a batch at most ``usage_flush_seconds`` (1 s by default) after its oldest
#: row, so the warm-up's rows are written before the first CPU reading and the measured
#: requests' last rows before the second one: the window holds exactly its own usage writes.
SETTLE_S = 1.25
POOL_ACCOUNT = re.compile(r"bench-pool-\d+")  # the pool's account ids, as the simulator counts them
CODEX_PATH = "/backend-api/codex/responses"
#: events of one simulated turn besides its text deltas: created, in_progress, item added,
#: part added, text done, part done, item done, completed
FIXED_EVENTS = 8


def events_of(deltas: int) -> int:
    return deltas + FIXED_EVENTS


def clean_env(**extra: str) -> dict[str, str]:
    """The inherited environment without gptgate/yardstick settings or proxies (loopback only)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GPTGATE_", "UPSTREAM_")) and "proxy" not in k.lower()
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def make_token() -> str:
    from gptgate.simulator.tokens import make_access_token

    return make_access_token(ACCOUNT)


@dataclass(frozen=True)
class Contender:
    name: str
    server: str | None  # key of the server it talks to; None: the simulator itself
    kind: str  # "chat" | "responses"
    path: str
    settle: float = 0.0  # seconds of quiet before and after each measured window (see SETTLE_S)
    model: str = "gpt-5.5"  # the model its requests name (a Codex one, or a web one)
    transport: str = "http"  # "http": one streamed POST per turn; "ws": frames over a kept socket


DIRECT = Contender("direct", None, "responses", CODEX_PATH)
YARDSTICK = Contender("yardstick", "floor", "chat", "/v1/chat/completions")
GW_CHAT = Contender("gptgate-chat", "gw", "chat", "/v1/chat/completions")
GW_RESP = Contender("gptgate-responses", "gw", "responses", "/v1/responses")
GW_CURL = Contender("gptgate-chat-curl", "gw-curl", "chat", "/v1/chat/completions")
GW_CHAT_POOL = Contender("gptgate-chat-pool50", "gw-pool", "chat", "/v1/chat/completions")
GW_RESP_POOL = Contender("gptgate-responses-pool50", "gw-pool", "responses", "/v1/responses")
#: the same server kind (an account store, served from it) with one stored account: what the pool
#: is compared with, so that the ratio is the cost of the pool's size and nothing else
GW_CHAT_POOL1 = Contender("gptgate-chat-pool1", "gw-pool1", "chat", "/v1/chat/completions")
GW_RESP_POOL1 = Contender("gptgate-responses-pool1", "gw-pool1", "responses", "/v1/responses")
#: each pool contender and the one-account contender it is compared with
POOL_PAIRS = ((GW_CHAT_POOL, GW_CHAT_POOL1), (GW_RESP_POOL, GW_RESP_POOL1))
POOL = (GW_CHAT_POOL, GW_RESP_POOL)
POOL1 = (GW_CHAT_POOL1, GW_RESP_POOL1)
POOL1_ACCOUNT = "bench-single"
GW_CHAT_BARE = Contender("gptgate-chat-bare", "gw-bare", "chat", "/v1/chat/completions", SETTLE_S)
GW_CHAT_OPS = Contender("gptgate-chat-ops", "gw-ops", "chat", "/v1/chat/completions", SETTLE_S)
#: the operator's side on, and the same server with it off
OPS_PAIRS = ((GW_CHAT_OPS, GW_CHAT_BARE),)
OPS = (GW_CHAT_BARE, GW_CHAT_OPS)
WEB_MODEL = "gpt-4o"  # a web-only model: gptgate routes it to the ChatGPT web upstream
GW_CHAT_WEB = Contender("gptgate-chat-web", "gw-web", "chat", "/v1/chat/completions", model=WEB_MODEL)
#: the web upstream's chat, and the Codex chat it is compared with
WEB_PAIRS = ((GW_CHAT_WEB, GW_CHAT),)
WEB = (GW_CHAT_WEB,)
GW_RESP_WS = Contender("gptgate-responses-ws", "gw", "responses", "/v1/responses", transport="ws")
#: the Responses WebSocket, and the HTTP stream of the same turns it is compared with
WS_PAIRS = ((GW_RESP_WS, GW_RESP),)
WS = (GW_RESP_WS,)
ALL = (DIRECT, YARDSTICK, GW_CHAT, GW_RESP, GW_CURL)  # time to first token
RELAYS = (YARDSTICK, GW_CHAT, GW_RESP, GW_CURL)  # memory of idle streams
SERVERS = ("floor", "gw", "gw-curl")
BURST_ALL = (*ALL, *POOL, *POOL1, *OPS, *WEB, *WS)  # burst CPU and streams/s, first worker count
BURST_LATER = (*RELAYS, *POOL, *POOL1)  # the other worker counts
BURST_RELAYS = (*RELAYS, *POOL, *POOL1, *OPS, *WEB, *WS)  # every server contender of the burst phase


def user_text(deltas: int) -> str:
    # a simulator directive: this turn's answer comes in ``deltas`` text deltas (echo stays "hi")
    return f"hi [[sim:text deltas={deltas}]]"


def responses_body(deltas: int) -> dict[str, Any]:
    return {
        "model": "gpt-5.5",
        "instructions": "",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": user_text(deltas)}],
            }
        ],
        "tools": [],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "store": False,
        "stream": True,
        "include": [],
    }


def chat_body(deltas: int, model: str = "gpt-5.5") -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": user_text(deltas)}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


#: Every limit a key can have, set high enough never to refuse in the benchmark: the limiter does
#: all its checks and shared-state counting on every request (models and upstreams match).
OPS_LIMITS: dict[str, Any] = {
    "models": ["gpt-*"],
    "rpm": 10**9,
    "tpm": 10**12,
    "concurrency": 100_000,
    "daily_tokens": 10**12,
    "weekly_tokens": 10**12,
    "monthly_tokens": 10**12,
    "upstreams": ["codex"],
    "max_effort": "xhigh",
}


@dataclass(frozen=True)
class BenchStore:
    """A fresh SQLite account store made for the run, and the key of its tokens; with a client
    key (``client_key``, its secret, never written to the results) when the server's requests
    must carry one."""

    url: str
    key: str
    data_dir: Path
    client_key: str | None = None
    client_key_id: str | None = None

    @property
    def path(self) -> Path:
        return self.data_dir / "bench.db"


def make_store(directory: Path, accounts: list[str]) -> BenchStore:
    """Create the store with gptgate's storage API (migrated, ``accounts`` added)."""
    from gptgate.simulator.tokens import make_access_token
    from gptgate.storage import AccountRecord, TokenCipher, generate_key, key_from_text, open_store

    directory.mkdir(parents=True, exist_ok=True)
    url, key = f"sqlite:///{directory / 'bench.db'}", generate_key()
    store = open_store(url, TokenCipher(key_from_text(key)))
    try:
        store.migrate()
        for account in accounts:
            store.add(
                AccountRecord(name=account, access_token=make_access_token(account), account_id=account)
            )
        assert len(store.list()) == len(accounts)
    finally:
        store.close()
    return BenchStore(url, key, directory)


def make_pool_store(directory: Path, size: int = POOL_SIZE) -> BenchStore:
    """The pool server's store: ``size`` accounts ``bench-pool-00`` …"""
    return make_store(directory, [f"bench-pool-{i:02d}" for i in range(size)])


def make_pool1_store(directory: Path) -> BenchStore:
    """The one-account pool server's store: ``bench-single`` (not one of the 50's names)."""
    return make_store(directory, [POOL1_ACCOUNT])


def make_ops_store(directory: Path) -> BenchStore:
    """The ops server's store: one account and one client key with every limit set."""
    from gptgate.keys.model import KeyLimits
    from gptgate.keys.ops import create
    from gptgate.storage import TokenCipher, key_from_text, open_store

    made = make_store(directory, [OPS_ACCOUNT])
    store = open_store(made.url, TokenCipher(key_from_text(made.key)))
    try:
        record, secret = create(store, "bench-ops", KeyLimits.from_json(OPS_LIMITS))
    finally:
        store.close()
    return BenchStore(made.url, made.key, directory, client_key=secret, client_key_id=record.id)


@dataclass
class Simulator:
    proc: Proc
    url: str
    token: str


def start_simulator(procs: Procs, name: str, mode: str, interval_ms: float, token: str) -> Simulator:
    port = free_port()
    argv = [GPTGATE, "simulate", "--host", "127.0.0.1", "--port", str(port), "--mode", mode]
    argv += ["--interval-ms", str(interval_ms), "--no-auth", "--no-record"]
    proc = procs.start(name, argv, clean_env())
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/_sim/health", proc)
    return Simulator(proc, url, token)


def start_server(
    procs: Procs,
    key: str,
    sim: Simulator,
    workers: int,
    tag: str,
    *,
    wait: bool = True,
    store: BenchStore | None = None,
) -> tuple[Proc, str]:
    """Start server ``key`` (floor / gw / gw-curl / gw-pool / gw-pool1 / gw-bare / gw-ops / gw-web) against
    ``sim``; wait until it answers.

    ``gw-pool``, ``gw-pool1`` and ``gw-ops`` need ``store``: they serve its accounts (and keys) and have no
    ``GPTGATE_ACCESS_TOKEN``. ``gw-ops`` records usage in it and counts metrics; ``gw-bare`` has
    neither (no store, ``GPTGATE_METRICS=false``). ``gw-web`` also has the web upstream on
    (``GPTGATE_CHATGPT_BASE_URLS``: the simulator's site root, which serves the web backend's
    routes). The others run with gptgate's defaults.
    """
    port = free_port()
    if key == "floor":
        argv = [PYTHON, str(FLOOR_RELAY), "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--workers", str(workers)]
        env = clean_env(UPSTREAM_URL=sim.url + CODEX_PATH, UPSTREAM_TOKEN=sim.token)
    else:
        argv = [GPTGATE, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        argv += ["--log-level", "warning"]
        env = clean_env(
            GPTGATE_CODEX_BASE_URL=sim.url + "/backend-api/codex",
            GPTGATE_FETCH_UPSTREAM_MODELS="false",
            GPTGATE_REASONING_SUMMARY="none",
        )
        if key in ("gw-pool", "gw-pool1", "gw-ops"):
            if store is None:
                raise ValueError(f"{key} needs a BenchStore")
            env.update(
                GPTGATE_ACCOUNT_STORE="true",
                GPTGATE_DATABASE_URL=store.url,
                GPTGATE_SECRET_KEY=store.key,
                GPTGATE_DATA_DIR=str(store.data_dir),
            )
        else:
            # never the operator's default store (~/.local/share/gptgate): one account from env
            env.update(GPTGATE_ACCOUNT_STORE="false", GPTGATE_ACCESS_TOKEN=sim.token)
        if key == "gw-curl":
            env["GPTGATE_CODEX_TRANSPORT"] = "curl_cffi"
        if key == "gw-web":
            env["GPTGATE_CHATGPT_BASE_URLS"] = f'["{sim.url}"]'

        if key in ("gw-bare", "gw-ops"):
            env["GPTGATE_METRICS"] = "false" if key == "gw-bare" else "true"
    proc = procs.start(f"{key}-w{workers}-{tag}", argv, env)
    base = f"http://127.0.0.1:{port}"
    if wait:
        wait_http(base + "/health", proc)
    return proc, base


def request_of(
    contender: Contender, sim: Simulator, bases: dict[str, str], deltas: int, client_key: str | None = None
) -> dict[str, Any]:
    """URL, headers, body and transport of ``contender``'s request, for the load client's spec
    (with ``Authorization: Bearer <client_key>`` when given). Over a WebSocket the URL is the
    ``ws://`` one and the body the ``response.create`` frame of each turn."""
    if contender.server is None:
        headers = {
            "authorization": f"Bearer {sim.token}",
            "chatgpt-account-id": ACCOUNT,
            "content-type": "application/json",
            "accept": "text/event-stream",
        }
        body = responses_body(deltas)
        return {"url": sim.url + contender.path, "headers": headers, "body": body, "transport": "http"}
    body = chat_body(deltas, contender.model) if contender.kind == "chat" else responses_body(deltas)
    headers = {"content-type": "application/json", "accept": "text/event-stream"}
    if client_key is not None:
        headers["authorization"] = f"Bearer {client_key}"
    url = bases[contender.server] + contender.path
    if contender.transport == "ws":
        url, body = "ws" + url.removeprefix("http"), {"type": "response.create", **body}
        headers = {k: v for k, v in headers.items() if k == "authorization"}
    return {"url": url, "headers": headers, "body": body, "transport": contender.transport}
