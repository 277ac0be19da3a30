"""refresh_tokens against the simulator over a socket: the wire request, rotation, the error split."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from gptgate.accounts import jwt
from gptgate.accounts.oauth import (
    CODEX_CLIENT_ID,
    RefreshRejected,
    RefreshUnavailable,
    Reply,
    TokenSet,
    classify_failure,
    error_code,
    refresh_tokens,
)
from gptgate.settings import Settings
from gptgate.simulator import RunningSimulator, SimulatorConfig, start_simulator


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    simulator = await start_simulator(SimulatorConfig(accounts=2))
    try:
        yield simulator
    finally:
        await simulator.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def refresh(
    http: aiohttp.ClientSession, sim: RunningSimulator, token: str, wait: float = 5.0, **kwargs: Any
) -> TokenSet:
    return await refresh_tokens(
        http,
        token_url=sim.base_url + "/oauth/token",
        refresh_token=token,
        client_id=CODEX_CLIENT_ID,
        timeout=wait,
        **kwargs,
    )


async def queue_auth_fault(http: aiohttp.ClientSession, sim: RunningSimulator, **fault: Any) -> None:
    async with http.post(sim.base_url + "/_sim/auth/faults", json={"faults": [fault]}) as response:
        assert response.status == 200


def test_defaults_are_the_codex_cli_values() -> None:
    settings = Settings()
    assert settings.oauth_token_url == "https://auth.openai.com/oauth/token"
    assert settings.oauth_client_id == CODEX_CLIENT_ID == "app_EMoamEEZ73f0CkXaXp7hrann"


async def test_request_is_what_codex_cli_sends(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    account = sim.state.seeded[0]
    await refresh(http, sim, account.refresh_token)
    (recorded,) = sim.state.requests
    assert (recorded["method"], recorded["path"], recorded["query"]) == ("POST", "/oauth/token", "")
    assert orjson.dumps(recorded["body"]) == (
        b'{"client_id":"app_EMoamEEZ73f0CkXaXp7hrann","grant_type":"refresh_token","refresh_token":"'
        + account.refresh_token.encode()
        + b'"}'
    )
    assert recorded["headers"]["content-type"] == "application/json"
    assert recorded["headers"]["originator"] == "codex_cli_rs"
    assert "cookie" not in recorded["headers"] and "authorization" not in recorded["headers"]


async def test_extra_headers_replace_case_insensitively(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    headers = {"Originator": "codex_exec", "User-Agent": "codex_exec/0.169.0 (Linux 6.1; x86_64) gptgate"}
    await refresh(http, sim, sim.state.seeded[0].refresh_token, headers=headers)
    sent = sim.state.requests[-1]["headers"]
    assert sent["originator"] == "codex_exec" and sent["user-agent"].startswith("codex_exec/0.169.0")


async def test_rotation(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    account = sim.state.seeded[0]
    tokens = await refresh(http, sim, account.refresh_token)
    assert tokens.refresh_token is not None and tokens.refresh_token != account.refresh_token
    claims = jwt.claims(tokens.access_token)
    assert claims[jwt.AUTH_CLAIM]["chatgpt_account_id"] == account.account_id
    assert tokens.expires_at == claims["exp"] and tokens.id_token is not None
    assert tokens.session_token is None
    again = await refresh(http, sim, tokens.refresh_token)
    assert again.refresh_token not in (account.refresh_token, tokens.refresh_token)
    assert sim.state.logins.stats()["refresh"][account.account_id]["ok"] == 2
    shown = repr(again)
    assert again.access_token not in shown and str(again.refresh_token) not in shown
    assert "expires_at" in shown


async def test_reuse_is_rejected(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    account = sim.state.seeded[0]
    await refresh(http, sim, account.refresh_token)
    with pytest.raises(RefreshRejected) as caught:
        await refresh(http, sim, account.refresh_token)
    assert caught.value.reason == "refresh_token_reused" and caught.value.status == 401
    assert account.refresh_token not in str(caught.value)


@pytest.mark.parametrize("code", ["refresh_token_expired", "refresh_token_invalidated"])
async def test_revoked_grant_is_rejected(
    http: aiohttp.ClientSession, sim: RunningSimulator, code: str
) -> None:
    account = sim.state.seeded[0]
    sim.state.logins.revoke(token=account.refresh_token, code=code)
    with pytest.raises(RefreshRejected) as caught:
        await refresh(http, sim, account.refresh_token)
    assert caught.value.reason == code


async def test_unknown_and_deactivated_are_rejected(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    with pytest.raises(RefreshRejected) as unknown:
        await refresh(http, sim, "rt-never-issued")
    assert unknown.value.reason == "refresh_token_invalidated"
    account = sim.state.seeded[1]
    sim.state.logins.set_deactivated(account.account_id, True)
    with pytest.raises(RefreshRejected) as deactivated:
        await refresh(http, sim, account.refresh_token)
    assert deactivated.value.reason == "account_deactivated"


@pytest.mark.parametrize(
    ("fault", "status", "retry_after"),
    [
        ({"kind": "server_error"}, 500, None),
        ({"kind": "unavailable", "retry_after": 30}, 503, 30.0),
        ({"kind": "rate_limited", "retry_after": 2}, 429, 2.0),
    ],
)
async def test_outage_is_unavailable(
    http: aiohttp.ClientSession,
    sim: RunningSimulator,
    fault: dict[str, Any],
    status: int,
    retry_after: float | None,
) -> None:
    account = sim.state.seeded[0]
    await queue_auth_fault(http, sim, **fault)
    with pytest.raises(RefreshUnavailable) as caught:
        await refresh(http, sim, account.refresh_token)
    assert (caught.value.status, caught.value.retry_after) == (status, retry_after)
    assert (await refresh(http, sim, account.refresh_token)).refresh_token  # the grant survived


async def test_timeout_is_unavailable(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    account = sim.state.seeded[0]
    await queue_auth_fault(http, sim, kind="timeout", ms=5000)
    with pytest.raises(RefreshUnavailable, match=r"within 0\.2 s") as caught:
        await refresh(http, sim, account.refresh_token, wait=0.2)
    assert caught.value.status is None
    await refresh(http, sim, account.refresh_token)


async def test_lost_reply_then_reuse(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    account = sim.state.seeded[0]
    await queue_auth_fault(http, sim, kind="drop")
    with pytest.raises(RefreshUnavailable, match="ServerDisconnectedError"):
        await refresh(http, sim, account.refresh_token)
    with pytest.raises(RefreshRejected, match="refresh_token_reused"):
        await refresh(http, sim, account.refresh_token)


async def test_connection_refused_is_unavailable(http: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RefreshUnavailable, match="ClientConnectorError"):
        await refresh_tokens(
            http,
            token_url=f"http://127.0.0.1:{port}/oauth/token",
            refresh_token="rt",
            client_id="c",
            timeout=2,
        )


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"error": "invalid_grant", "code": "refresh_token_reused"}, "refresh_token_reused"),
        (401, {"error": {"message": "m", "code": "refresh_token_expired"}}, "refresh_token_expired"),
        (400, {"code": "refresh_token_invalidated"}, "refresh_token_invalidated"),
        (400, {"error": "invalid_grant", "error_description": "x"}, "invalid_grant"),
        (403, {"error": {"code": "account_deactivated"}}, "account_deactivated"),
        (403, {"detail": {"code": "token_invalidated"}}, "token_invalidated"),
        (401, None, "unauthorized"),
        (401, {"error": "invalid_client"}, "invalid_client"),
    ],
)
def test_dead_grants(status: int, body: Any, expected: str) -> None:
    error = classify_failure(Reply(status, body, None, {}), "token endpoint")
    assert isinstance(error, RefreshRejected) and error.reason == expected and error.status == status


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"error": "invalid_grant"}),  # a 5xx is never a verdict on the grant
        (502, None),
        (503, {"error": "temporarily_unavailable"}),
        (429, {"error": {"code": "rate_limit_exceeded"}}),
        (408, None),
        (403, None),  # an HTML challenge page, not a JSON verdict
        (400, {"error": "invalid_request"}),
        (404, None),
    ],
)
def test_transient_failures(status: int, body: Any) -> None:
    error = classify_failure(Reply(status, body, 4.0, {}), "token endpoint")
    assert isinstance(error, RefreshUnavailable) and error.status == status


def test_error_code_shapes() -> None:
    assert error_code({"error": {"code": "a"}, "code": "b"}) == "a"
    assert error_code({"error": "e", "code": "c"}) == "c"
    assert error_code({"error": "e"}) == "e"
    assert error_code({"error": {"message": "no code"}}) is None
    assert error_code(["not", "an", "object"]) is None
    assert error_code({"error": "x" * 500}) == "x" * 64


async def test_odd_success_bodies() -> None:
    bodies = iter([b"{}", b'{"access_token":"not-a-jwt","expires_in":60}', b"<html>"])

    async def token(request: web.Request) -> web.Response:
        return web.Response(body=next(bodies), content_type="application/json")

    app = web.Application()
    app.router.add_post("/oauth/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/oauth/token"
    try:
        async with aiohttp.ClientSession() as http:

            async def call() -> TokenSet:
                return await refresh_tokens(
                    http, token_url=url, refresh_token="rt-old", client_id="c", timeout=5
                )

            with pytest.raises(RefreshUnavailable, match="without an access_token"):
                await call()
            tokens = await call()
            assert tokens.refresh_token == "rt-old" and tokens.id_token is None
            assert tokens.expires_at is not None and abs(tokens.expires_at - time.time() - 60) < 5
            with pytest.raises(RefreshUnavailable):
                await call()
    finally:
        await runner.cleanup()
