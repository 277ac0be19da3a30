"""Test helpers: fixture files, and gateways/upstreams on real loopback sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from gptgate.accounts.model import Account
from gptgate.app import create_app
from gptgate.gateway import Gateway
from gptgate.settings import Settings
from gptgate.simulator.tokens import make_access_token

ROOT = Path(__file__).resolve().parents[1]
#: copies of the project's wire samples (the repository stands alone)
FIXTURES = ROOT / "tests" / "fixtures"
ACCOUNT_ID = "acct-test-0001"


def fixture_path(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"fixture missing: {path}")
    return path


def client_requests(name: str) -> list[dict[str, Any]]:
    """Requests a real client sent, from ``fixtures/clients/NAME.jsonl``."""
    lines = fixture_path("clients", name + ".jsonl").read_bytes().splitlines()
    return [orjson.loads(line) for line in lines if line.strip()]


def test_account(account_id: str = ACCOUNT_ID) -> Account:
    return Account.from_tokens(make_access_token(account_id, plan="plus"), name="test")


@dataclass
class Served:
    runner: web.AppRunner
    base_url: str
    gateway: Gateway | None = None

    async def close(self) -> None:
        await self.runner.cleanup()


async def serve_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def start_gateway(
    upstream_base: str, accounts: list[Account] | None = None, **overrides: Any
) -> Served:
    """A gateway on a loopback port whose Codex upstream is ``upstream_base``."""
    settings = Settings(
        codex_base_url=upstream_base.rstrip("/") + "/backend-api/codex",
        **{"fetch_upstream_models": False, "account_store": False, **overrides},
    )
    gateway = Gateway(settings, accounts if accounts is not None else [test_account()])
    runner, base = await serve_app(create_app(gateway))
    return Served(runner, base, gateway)


RawHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def start_raw_upstream(handler: RawHandler) -> Served:
    """A fake upstream answering every Codex call with ``handler`` (for byte-exact replays)."""
    app = web.Application()
    app.router.add_route("*", "/backend-api/codex/{tail:.*}", handler)
    runner, base = await serve_app(app)
    return Served(runner, base)


def replay(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> RawHandler:
    """A handler that answers with these exact bytes (SSE when status is 200)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        if status != 200:
            return web.Response(status=status, body=body, headers=headers)
        resp = web.StreamResponse(
            status=200, headers={"content-type": "text/event-stream", **(headers or {})}
        )
        await resp.prepare(request)
        await resp.write(body)
        await resp.write_eof()
        return resp

    return handler


def sse_data(body: bytes) -> list[bytes]:
    """The data payloads of an SSE body, in order."""
    out = []
    for record in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        lines = [
            ln[6:] if ln.startswith(b"data: ") else ln[5:]
            for ln in record.split(b"\n")
            if ln.startswith(b"data:")
        ]
        if lines:
            out.append(b"\n".join(lines))
    return out


def chat_chunks(body: bytes) -> list[Any]:
    """Chat SSE body -> parsed chunks, with the literal ``[DONE]`` kept as a string."""
    return [d.decode() if d == b"[DONE]" else orjson.loads(d) for d in sse_data(body)]
