"""The headers of a Codex turn as they reach the backend, and a refreshed token on the next turn
(the account's headers are made once per account and token)."""

from __future__ import annotations

from aiohttp import web

from gptgate.accounts.model import Account
from gptgate.canonical.request import CanonicalRequest
from gptgate.upstreams.codex.client import CodexUpstream
from gptgate.upstreams.transport import AiohttpTransport
from tests.support import serve_app

SSE = b'data: {"type":"response.completed","response":{"id":"resp_1","status":"completed"}}\n\n'


async def test_a_turn_sends_the_official_headers_and_a_refreshed_token_next_time() -> None:
    seen: list[list[tuple[str, str]]] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(list(request.headers.items()))
        return web.Response(body=SSE, content_type="text/event-stream")

    app = web.Application()
    app.router.add_post("/backend-api/codex/responses", answer)
    runner, base = await serve_app(app)
    upstream = CodexUpstream(
        AiohttpTransport(connect_timeout=5, idle_timeout=30, limit=4),
        base_url=base + "/backend-api/codex",
        originator="codex_cli_rs",
        client_version="0.169.0",
        first_byte_timeout=5,
    )
    account = Account(id="a", access_token="tok-1", account_id="acc-1")
    request = CanonicalRequest(
        model="gpt-5.5",
        requested_model="gpt-5.5",
        input=[],
        origin="responses",
        prompt_cache_key="thread-1",
        forward_headers={"x-codex-beta-features": "remote_compaction_v2"},
    )

    async def turn(req: CanonicalRequest) -> dict[str, str]:
        stream = await upstream.open(req, account)
        async for _ in stream.batches():
            pass
        await stream.aclose()
        return {k.lower(): v for k, v in seen[-1]}

    try:
        first = await turn(request)
        agent = first["user-agent"]
        assert agent.startswith("codex_cli_rs/0.169.0 (") and agent.endswith(") gptgate")
        assert [name.lower() for name, _ in seen[-1]] == [
            "host",
            "authorization",
            "content-type",
            "accept",
            "originator",
            "user-agent",
            "version",
            "chatgpt-account-id",
            "session_id",
            "x-codex-beta-features",
            "accept-encoding",
            "content-length",
        ]
        not_ours = ("host", "user-agent", "content-length", "accept-encoding")  # aiohttp's, or checked above
        assert {k: v for k, v in first.items() if k not in not_ours} == {
            "authorization": "Bearer tok-1",
            "content-type": "application/json",
            "accept": "text/event-stream",
            "originator": "codex_cli_rs",
            "version": "0.169.0",
            "chatgpt-account-id": "acc-1",
            "session_id": "thread-1",
            "x-codex-beta-features": "remote_compaction_v2",
        }
        account.access_token = "tok-2"  # refreshed
        account.account_id = None
        plain = CanonicalRequest(model="gpt-5.5", requested_model="gpt-5.5", input=[], origin="responses")
        second = await turn(plain)
        assert second["authorization"] == "Bearer tok-2"
        assert "chatgpt-account-id" not in second
        assert "session_id" not in second and "x-codex-beta-features" not in second
        third = await turn(request)  # the account's headers were not changed by a turn's own
        assert third["session_id"] == "thread-1" and third["authorization"] == "Bearer tok-2"
    finally:
        await upstream.close()
        await runner.cleanup()
