"""GET /api/auth/session: session cookie → access token (chatgpt-web §5.1)."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any

import aiohttp
import orjson

from gptgate.simulator import RunningSimulator
from gptgate.simulator.tokens import decode_jwt_claims
from tests.simulator.sim_helpers import TURN_PATH, turn_body

COOKIE = "__Secure-next-auth.session-token"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def exchange(
    http: aiohttp.ClientSession, sim: RunningSimulator, cookie: str
) -> tuple[int, Any, SimpleCookie]:
    async with http.get(sim.base_url + "/api/auth/session", headers={"cookie": cookie}) as response:
        cookies: SimpleCookie = SimpleCookie()
        for value in response.headers.getall("set-cookie", []):
            cookies.load(value)
        return response.status, orjson.loads(await response.read()), cookies


async def test_session_gives_an_access_token(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=1, account_plan="pro", session_lifetime_s=3600)
    (account,) = sim.state.seeded
    status, body, cookies = await exchange(http, sim, f"{COOKIE}={account.session_token}")
    assert status == 200
    assert list(body) == ["user", "expires", "account", "accessToken", "authProvider"]
    assert set(body["user"]) == {"id", "name", "email", "image", "picture", "groups"}
    assert body["user"]["email"] == account.email and body["account"] == {"id": account.account_id}
    assert body["authProvider"] == "auth0" and ISO.match(body["expires"])
    claims = decode_jwt_claims(body["accessToken"])
    assert claims is not None and claims["https://api.openai.com/auth"]["chatgpt_plan_type"] == "pro"
    assert claims["https://api.openai.com/auth"]["chatgpt_user_id"] == body["user"]["id"]
    headers = {"authorization": "Bearer " + body["accessToken"], "chatgpt-account-id": account.account_id}
    async with http.post(sim.base_url + TURN_PATH, json=turn_body(), headers=headers) as response:
        assert response.status == 200
    rotated = cookies[COOKIE]
    assert rotated.value.startswith("sess_sim_") and rotated.value != account.session_token
    assert rotated["httponly"] and rotated["secure"] and rotated["path"] == "/"
    assert (await exchange(http, sim, f"{COOKIE}={account.session_token}"))[0] == 200  # old one still works
    assert "accessToken" in (await exchange(http, sim, f"{COOKIE}={rotated.value}"))[1]


async def test_chunked_cookie(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    token = "s" * 5000
    sim.state.logins.add_session_token(token, "acc-chunks")
    cookie = f"{COOKIE}.0={token[:3000]}; other=1; {COOKIE}.1={token[3000:]}"
    status, body, _ = await exchange(http, sim, cookie)
    assert status == 200 and body["account"] == {"id": "acc-chunks"}


async def test_signed_out_answers(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=2, session_lifetime_s=600)
    expiring, deactivated = sim.state.seeded
    sim.state.logins.set_deactivated(deactivated.account_id, True)
    assert await exchange(http, sim, f"{COOKIE}={deactivated.session_token}") == (200, {}, SimpleCookie())
    assert (await exchange(http, sim, f"{COOKIE}=nope"))[:2] == (200, {})
    assert (await exchange(http, sim, "other=1"))[:2] == (200, {})
    sim.state.advance_time(601)
    assert (await exchange(http, sim, f"{COOKIE}={expiring.session_token}"))[:2] == (200, {})
    async with http.get(sim.base_url + "/_sim/stats") as response:
        session = (await response.json())["session"]
    assert session[expiring.account_id] == {"calls": 1, "ok": 0, "rejected": 1, "failed": 0}
    assert session["(unknown)"]["rejected"] == 2


async def test_session_seeded_over_http_with_faults(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    seed = {"session_token": "sess-x", "account_id": "acc-x", "plan": "plus", "expires_in": 60}
    async with http.post(sim.base_url + "/_sim/sessions", json=seed) as response:
        assert response.status == 200
    faults = {"faults": [{"kind": "server_error"}, {"kind": "rate_limited"}]}
    async with http.post(sim.base_url + "/_sim/auth/faults", json=faults) as response:
        assert response.status == 200
    assert [(await exchange(http, sim, f"{COOKIE}=sess-x"))[0] for _ in range(3)] == [500, 429, 200]
    sim.state.advance_time(61)
    assert (await exchange(http, sim, f"{COOKIE}=sess-x"))[1] == {}
    async with http.post(sim.base_url + "/_sim/sessions", json={"session_token": 1}) as response:
        assert response.status == 400
