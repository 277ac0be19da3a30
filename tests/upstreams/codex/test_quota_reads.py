"""An account's quota snapshot is read from its answers' rate-limit headers at most once a second,
and from every refusal."""

from __future__ import annotations

import pytest
from aiohttp import web

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.canonical.request import CanonicalRequest
from gptgate.upstreams.codex.client import CodexUpstream
from gptgate.upstreams.transport import AiohttpTransport
from tests.support import serve_app

SSE = (
    b'data: {"type":"response.created","response":{"id":"resp_1"}}\n\n'
    b'data: {"type":"response.completed","response":{"id":"resp_1","status":"completed"}}\n\n'
)


async def test_the_headers_are_read_once_a_second_and_on_every_refusal() -> None:
    used = iter(["10", "11", "12", "99"])

    async def answer(request: web.Request) -> web.Response:
        percent = next(used)
        headers = {"x-codex-primary-used-percent": percent, "x-codex-primary-window-minutes": "300"}
        if percent == "99":
            body = b'{"error":{"type":"usage_limit_reached","message":"limit","resets_in_seconds":60}}'
            return web.Response(status=429, body=body, headers=headers, content_type="application/json")
        return web.Response(body=SSE, headers=headers, content_type="text/event-stream")

    app = web.Application()
    app.router.add_post("/backend-api/codex/responses", answer)
    runner, base = await serve_app(app)
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=30, limit=16)
    upstream = CodexUpstream(
        transport,
        base_url=base + "/backend-api/codex",
        originator="codex_cli_rs",
        client_version="0.169.0",
        first_byte_timeout=5,
    )
    account = Account(id="a", access_token="t")
    request = CanonicalRequest(model="gpt-5.5", requested_model="gpt-5.5", input=[], origin="responses")

    async def turn() -> float | None:
        stream = await upstream.open(request, account)
        async for _ in stream.batches():
            pass
        await stream.aclose()
        return account.quota.primary.used_percent if account.quota.primary else None

    try:
        assert await turn() == 10
        assert await turn() == 10  # within the second: not read again
        account.quota.updated_at -= 1.0
        assert await turn() == 12
        with pytest.raises(errors.UpstreamError):
            await turn()
        assert account.quota.primary is not None and account.quota.primary.used_percent == 99
    finally:
        await upstream.close()
        await runner.cleanup()
