"""Many accounts: seeding, per-account quota windows, token expiry and signatures, deactivation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from gptgate.simulator import Credentials, RunningSimulator, make_access_token
from gptgate.simulator.state import PRIMARY_WINDOW_S, SECONDARY_WINDOW_S
from gptgate.simulator.tokens import decode_jwt_claims
from tests.simulator.sim_helpers import ACCOUNT, TURN_PATH, auth_headers, turn_body

EXPIRED = {
    "error": {
        "message": "Provided authentication token is expired. Please try signing in again.",
        "code": "token_expired",
    }
}
DEACTIVATED = {
    "error": {
        "message": "Your OpenAI account has been deactivated, please check your email for more information. "
        "If you feel this is an error, contact us through our help center at help.openai.com.",
        "code": "account_deactivated",
    }
}
CREDENTIAL_KEYS = {
    "account_id",
    "email",
    "plan",
    "access_token",
    "refresh_token",
    "id_token",
    "session_token",
}


def bearer(credentials: Credentials | dict[str, str]) -> dict[str, str]:
    values = credentials.as_json() if isinstance(credentials, Credentials) else credentials
    return {"authorization": "Bearer " + values["access_token"], "chatgpt-account-id": values["account_id"]}


async def turn(
    http: aiohttp.ClientSession, sim: RunningSimulator, headers: Mapping[str, str]
) -> tuple[int, Mapping[str, str], Any]:
    async with http.post(sim.base_url + TURN_PATH, json=turn_body(), headers=headers) as response:
        raw = await response.read()
        body = orjson.loads(raw) if response.status != 200 else raw
        return response.status, response.headers.copy(), body


async def test_seeded_accounts_from_config(make_sim: Any) -> None:
    sim = await make_sim(accounts=3, account_plan="pro", seed=7)
    seeded = sim.state.seeded
    assert len(seeded) == 3 and len({c.account_id for c in seeded}) == 3
    first = seeded[0].as_json()
    assert set(first) == CREDENTIAL_KEYS
    assert first["email"] == "sim-user-0001@example.com" and first["plan"] == "pro"
    assert first["refresh_token"].startswith("rt_sim_") and first["session_token"].startswith("sess_sim_")
    claims = decode_jwt_claims(first["access_token"])
    assert claims is not None
    assert claims["https://api.openai.com/auth"]["chatgpt_account_id"] == first["account_id"]
    assert claims["https://api.openai.com/auth"]["chatgpt_plan_type"] == "pro"
    again = await make_sim(accounts=3, account_plan="pro", seed=7)
    assert [c.account_id for c in again.state.seeded] == [c.account_id for c in seeded]
    assert [c.refresh_token for c in again.state.seeded] == [c.refresh_token for c in seeded]


async def test_reset_seeds_the_configured_accounts_again(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=2)
    ids = [c.account_id for c in sim.state.seeded]
    sim.state.seed_accounts(1)
    async with http.post(sim.base_url + "/_sim/reset") as response:
        assert response.status == 200
    assert [c.account_id for c in sim.state.seeded] == ids and list(sim.state.logins.by_id) == ids


async def test_seed_over_http(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    body = {"count": 4, "plan": "team", "primary_limit": 1}
    async with http.post(sim.base_url + "/_sim/accounts", json=body) as response:
        assert response.status == 200
        accounts = (await response.json())["accounts"]
    assert len(accounts) == 4 and all(set(a) == CREDENTIAL_KEYS and a["plan"] == "team" for a in accounts)
    for account in accounts:
        status, headers, _ = await turn(http, sim, bearer(account))
        assert status == 200 and headers["x-codex-plan-type"] == "team"
        assert (await turn(http, sim, bearer(account)))[0] == 429
    async with http.get(sim.base_url + "/_sim/accounts") as response:
        listed = (await response.json())["accounts"]
    assert [a["account_id"] for a in listed] == [a["account_id"] for a in accounts]
    assert listed[0] == {
        "account_id": accounts[0]["account_id"],
        "email": "sim-user-0001@example.com",
        "plan": "team",
        "deactivated": False,
        "primary_used": 1,
        "primary_limit": 1,
        "secondary_used": 1,
        "secondary_limit": 10,
    }
    async with http.post(sim.base_url + "/_sim/accounts", json={"count": 0}) as response:
        assert response.status == 400
    async with http.post(sim.base_url + "/_sim/accounts", json={"count": 1, "plan": 3}) as response:
        assert response.status == 400


async def test_accounts_run_out_independently_and_reset(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=3, quota_requests_per_window=2)
    first, second, third = sim.state.seeded
    sim.state.set_quota(third.account_id, 1, None)
    assert [(await turn(http, sim, bearer(first)))[0] for _ in range(3)] == [200, 200, 429]
    status, headers, _ = await turn(http, sim, bearer(second))
    assert status == 200 and headers["x-codex-primary-used-percent"] == "50"
    assert [(await turn(http, sim, bearer(third)))[0] for _ in range(2)] == [200, 429]
    sim.state.advance_time(PRIMARY_WINDOW_S / 2)
    status, headers, body = await turn(http, sim, bearer(first))
    assert status == 429 and body["error"]["type"] == "usage_limit_reached"
    assert body["error"]["resets_in_seconds"] == int(headers["x-codex-primary-reset-after-seconds"])
    assert abs(body["error"]["resets_in_seconds"] - PRIMARY_WINDOW_S / 2) <= 2
    assert body["error"]["resets_at"] == int(headers["x-codex-primary-reset-at"])
    sim.state.advance_time(PRIMARY_WINDOW_S / 2 + 1)
    assert (await turn(http, sim, bearer(first)))[0] == 200
    assert (await turn(http, sim, bearer(third)))[0] == 200
    status, headers, _ = await turn(http, sim, bearer(second))
    assert status == 200 and headers["x-codex-primary-used-percent"] == "50"  # its window rolled too


async def test_weekly_window_runs_out_and_resets(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=2, quota_requests_per_window=2, quota_requests_per_week=3)
    spent, fresh = sim.state.seeded
    assert [(await turn(http, sim, bearer(spent)))[0] for _ in range(3)] == [200, 200, 429]
    sim.state.advance_time(PRIMARY_WINDOW_S + 1)
    status, headers, _ = await turn(http, sim, bearer(spent))
    assert status == 200 and headers["x-codex-secondary-used-percent"] == "100"
    status, headers, body = await turn(http, sim, bearer(spent))
    assert status == 429
    assert headers["x-codex-primary-used-percent"] == "50"  # the 5-hour window is not the one spent
    assert headers["x-codex-secondary-used-percent"] == "100"
    assert body["error"]["resets_at"] == int(headers["x-codex-secondary-reset-at"])
    left = SECONDARY_WINDOW_S - PRIMARY_WINDOW_S - 1
    assert abs(body["error"]["resets_in_seconds"] - left) <= 2
    assert (await turn(http, sim, bearer(fresh)))[0] == 200
    async with http.get(sim.base_url + "/backend-api/wham/usage", headers=bearer(spent)) as response:
        limits = (await response.json())["rate_limit"]
    assert limits["limit_reached"] is True and limits["secondary_window"]["used_percent"] == 100
    sim.state.advance_time(SECONDARY_WINDOW_S)
    status, headers, _ = await turn(http, sim, bearer(spent))
    assert status == 200 and headers["x-codex-secondary-used-percent"] == "33.33"


async def test_quota_over_http(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    url = f"{sim.base_url}/_sim/accounts/{ACCOUNT}/quota"
    async with http.post(url, json={"primary_limit": 1, "secondary_limit": None}) as response:
        assert response.status == 200
    assert [(await turn(http, sim, auth_headers()))[0] for _ in range(2)] == [200, 429]
    async with http.post(url, json={"primary_limit": None}) as response:
        assert response.status == 200
    assert (await turn(http, sim, auth_headers()))[0] == 200
    async with http.post(url, json={"primary_limit": -1}) as response:
        assert response.status == 400


async def test_issued_tokens_expire_on_the_simulated_clock(
    http: aiohttp.ClientSession, make_sim: Any
) -> None:
    sim = await make_sim(accounts=1, access_token_lifetime_s=600)
    (account,) = sim.state.seeded
    assert (await turn(http, sim, bearer(account)))[0] == 200
    async with http.post(sim.base_url + "/_sim/time", json={"advance_seconds": 601}) as response:
        assert abs((await response.json())["now"] - sim.state.now()) < 1
    status, _, body = await turn(http, sim, bearer(account))
    assert (status, body) == (401, EXPIRED)


async def test_foreign_signature_is_refused(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    header, payload, _ = make_access_token(ACCOUNT).split(".")
    forged = {"authorization": f"Bearer {header}.{payload}.{'A' * 43}", "chatgpt-account-id": ACCOUNT}
    status, _, body = await turn(http, sim, forged)
    assert (status, body) == (401, EXPIRED)
    async with http.post(sim.base_url + "/v1/responses", json=turn_body(), headers=forged) as response:
        assert response.status == 401


async def test_deactivated_account(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=2)
    gone, other = sim.state.seeded
    async with http.post(f"{sim.base_url}/_sim/accounts/{gone.account_id}/deactivate") as response:
        assert response.status == 200
    status, _, body = await turn(http, sim, bearer(gone))
    assert (status, body) == (401, DEACTIVATED)
    models = sim.base_url + "/backend-api/codex/models?client_version=1"
    for url in (models, sim.base_url + "/backend-api/wham/usage"):
        async with http.get(url, headers=bearer(gone)) as response:
            assert response.status == 401 and await response.json() == DEACTIVATED
    assert (await turn(http, sim, bearer(other)))[0] == 200
    async with http.post(f"{sim.base_url}/_sim/accounts/{gone.account_id}/activate") as response:
        assert response.status == 200
    assert (await turn(http, sim, bearer(gone)))[0] == 200


async def test_turn_counts_in_stats(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=2, quota_requests_per_window=1)
    first, second = sim.state.seeded
    for _ in range(2):
        await turn(http, sim, bearer(first))
    await turn(http, sim, bearer(second))
    async with http.get(sim.base_url + "/_sim/stats") as response:
        stats = await response.json()
    assert stats == {"refresh": {}, "session": {}, "turns": {first.account_id: 1, second.account_id: 1}}
