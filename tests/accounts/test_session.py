"""exchange_session against the simulator: the cookie sent, the tokens back, the error split."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gptgate.accounts import jwt
from gptgate.accounts.oauth import RefreshRejected, RefreshUnavailable, TokenSet
from gptgate.accounts.session import CHUNK_SIZE, SESSION_COOKIE, cookie_header, exchange_session
from gptgate.settings import Settings
from gptgate.simulator import RunningSimulator, SimulatorConfig, start_simulator


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    simulator = await start_simulator(SimulatorConfig(accounts=2, session_lifetime_s=3600))
    try:
        yield simulator
    finally:
        await simulator.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def exchange(
    http: aiohttp.ClientSession, base_url: str, token: str, wait: float = 5.0, **kwargs: Any
) -> TokenSet:
    return await exchange_session(http, base_url=base_url, session_token=token, timeout=wait, **kwargs)


def test_default_base_url() -> None:
    assert Settings().session_base_url == "https://chatgpt.com"


async def test_exchange(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    account = sim.state.seeded[0]
    tokens = await exchange(http, sim.base_url + "/", account.session_token)
    (recorded,) = sim.state.requests
    assert (recorded["method"], recorded["path"]) == ("GET", "/api/auth/session")
    assert recorded["headers"]["cookie"] == f"{SESSION_COOKIE}={account.session_token}"
    assert recorded["headers"]["accept"] == "application/json"
    claims = jwt.claims(tokens.access_token)
    assert claims[jwt.AUTH_CLAIM]["chatgpt_account_id"] == account.account_id
    assert tokens.expires_at == claims["exp"]
    assert tokens.refresh_token is None and tokens.id_token is None
    assert tokens.session_token is not None and tokens.session_token != account.session_token
    assert tokens.session_token not in repr(tokens) and tokens.access_token not in repr(tokens)
    rotated = await exchange(http, sim.base_url, tokens.session_token)
    assert jwt.claims(rotated.access_token)[jwt.AUTH_CLAIM]["chatgpt_account_id"] == account.account_id


async def test_cookies_never_cross_accounts(sim: RunningSimulator) -> None:
    first, second = sim.state.seeded
    jar = aiohttp.CookieJar(unsafe=True)  # would keep cookies from 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        await exchange(http, sim.base_url, first.session_token)
        tokens = await exchange(http, sim.base_url, second.session_token)
    assert sim.state.requests[-1]["headers"]["cookie"] == f"{SESSION_COOKIE}={second.session_token}"
    assert jwt.claims(tokens.access_token)[jwt.AUTH_CLAIM]["chatgpt_account_id"] == second.account_id
    assert len(jar) == 0


async def test_long_token_is_sent_in_chunks(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    token = "t" * (CHUNK_SIZE * 2 + 10)
    sim.state.logins.add_session_token(token, "acc-long")
    header = cookie_header(token)
    assert header == "; ".join(
        [
            f"{SESSION_COOKIE}.0={'t' * CHUNK_SIZE}",
            f"{SESSION_COOKIE}.1={'t' * CHUNK_SIZE}",
            f"{SESSION_COOKIE}.2={'t' * 10}",
        ]
    )
    tokens = await exchange(http, sim.base_url, token)
    assert sim.state.requests[-1]["headers"]["cookie"] == header
    assert jwt.claims(tokens.access_token)[jwt.AUTH_CLAIM]["chatgpt_account_id"] == "acc-long"


async def test_signed_out_sessions_are_rejected(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    first, second = sim.state.seeded
    with pytest.raises(RefreshRejected, match="session_invalid") as unknown:
        await exchange(http, sim.base_url, "sess-unknown")
    assert unknown.value.status == 200
    sim.state.logins.set_deactivated(second.account_id, True)
    with pytest.raises(RefreshRejected, match="session_invalid"):
        await exchange(http, sim.base_url, second.session_token)
    sim.state.advance_time(3601)
    with pytest.raises(RefreshRejected, match="session_invalid"):
        await exchange(http, sim.base_url, first.session_token)


@pytest.mark.parametrize(
    ("kind", "status"), [("server_error", 500), ("unavailable", 503), ("rate_limited", 429)]
)
async def test_outage_is_unavailable(
    http: aiohttp.ClientSession, sim: RunningSimulator, kind: str, status: int
) -> None:
    account = sim.state.seeded[0]
    async with http.put(sim.base_url + "/_sim/auth", json={"outage": {"kind": kind}}) as response:
        assert response.status == 200
    with pytest.raises(RefreshUnavailable) as caught:
        await exchange(http, sim.base_url, account.session_token)
    assert caught.value.status == status
    sim.state.auth_outage = None
    await exchange(http, sim.base_url, account.session_token)


async def test_timeout_is_unavailable(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    async with http.post(
        sim.base_url + "/_sim/auth/faults", json={"faults": [{"kind": "timeout"}]}
    ) as response:
        assert response.status == 200
    with pytest.raises(RefreshUnavailable, match=r"within 0\.2 s"):
        await exchange(http, sim.base_url, sim.state.seeded[0].session_token, wait=0.2)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "error"),
    [
        (200, b"<html>challenge</html>", "text/html", RefreshUnavailable),
        (403, b"<html>challenge</html>", "text/html", RefreshUnavailable),
        (401, b'{"detail":{"code":"token_invalidated"}}', "application/json", RefreshRejected),
        (200, b'{"user":{},"accessToken":""}', "application/json", RefreshRejected),
    ],
)
async def test_other_answers(status: int, body: bytes, content_type: str, error: type[Exception]) -> None:
    async def session_route(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, content_type=content_type)

    app = web.Application()
    app.router.add_get("/api/auth/session", session_route)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(error):
                await exchange(http, f"http://127.0.0.1:{runner.addresses[0][1]}", "sess")
    finally:
        await runner.cleanup()
