"""The Codex upstream's unary calls (``unary.py``): what goes out, what comes back, failures."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp import web

from gptgate import errors
from gptgate.upstreams.codex.client import CodexUpstream
from gptgate.upstreams.transport import AiohttpTransport
from tests import support
from tests.support import Served, serve_app

Seen = list[tuple[str, dict[str, str], Any]]


async def upstream(status: int, body: bytes, seen: Seen, headers: dict[str, str] | None = None) -> Served:
    async def handler(request: web.Request) -> web.Response:
        seen.append((request.path, dict(request.headers), orjson.loads(await request.read())))
        return web.Response(status=status, body=body, headers=headers, content_type="application/json")

    app = web.Application()
    app.router.add_post("/backend-api/codex/{tail:.*}", handler)
    runner, base = await serve_app(app)
    return Served(runner, base)


def codex(*bases: str) -> CodexUpstream:
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=5, limit=10)
    urls = [b + "/backend-api/codex" for b in bases]
    return CodexUpstream(
        transport,
        base_url=urls[0],
        fallback_base_urls=urls[1:],
        originator="codex_cli_rs",
        client_version="0.169.0",
        first_byte_timeout=5,
    )


async def test_compact_drops_what_the_backend_rejects_and_keeps_the_turn_state() -> None:
    seen: Seen = []
    served = await upstream(
        200,
        b'{"output":[{"type":"compaction","encrypted_content":"x"}]}',
        seen,
        {"x-codex-turn-state": "ts-1", "x-other": "no"},
    )
    client = codex(served.base_url)
    try:
        body = {"model": "gpt-5.5", "input": [], "instructions": "", "stream": True, "temperature": 1}
        reply = await client.compact(body, {"session-id": "thread-1"}, support.test_account())
    finally:
        await client.close()
        await served.close()
    assert reply.body == {"output": [{"type": "compaction", "encrypted_content": "x"}]}
    assert reply.headers == {"x-codex-turn-state": "ts-1"}
    ((path, headers, sent),) = seen
    assert path == "/backend-api/codex/responses/compact"
    assert sent == {"model": "gpt-5.5", "input": [], "instructions": ""}
    assert headers["session-id"] == "thread-1" and headers["chatgpt-account-id"] == "acct-test-0001"
    assert headers["Authorization"].startswith("Bearer ey")


async def test_search_is_sent_verbatim_and_a_dead_base_is_failed_over() -> None:
    seen: Seen = []
    broken = await upstream(502, b"{}", seen)
    good = await upstream(200, b'{"output":"r","encrypted_output":"e"}', seen)
    client = codex(broken.base_url, good.base_url)
    body = {"id": "s", "model": "gpt-5.5", "max_output_tokens": 2500}
    try:
        reply = await client.search(body, {}, support.test_account())
    finally:
        await client.close()
        await broken.close()
        await good.close()
    assert reply.body == {"output": "r", "encrypted_output": "e"}
    assert [(p, b) for p, _, b in seen] == [("/backend-api/codex/alpha/search", body)] * 2


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            429,
            b'{"error":{"type":"usage_limit_reached","message":"m","resets_in_seconds":60}}',
            errors.UsageLimitReached,
        ),
        (401, b'{"error":{"message":"expired","code":"token_expired"}}', errors.AccountUnauthorized),
        (400, b'{"detail":"Unsupported parameter: x"}', errors.UpstreamRequestRejected),
        (200, b"not json", errors.UpstreamUnavailable),
    ],
)
async def test_refusals_are_classified_as_for_a_turn(
    status: int, body: bytes, error: type[Exception]
) -> None:
    served = await upstream(status, body, [])
    client = codex(served.base_url)
    try:
        with pytest.raises(error):
            await client.compact({"model": "gpt-5.5", "input": []}, {}, support.test_account())
    finally:
        await client.close()
        await served.close()
