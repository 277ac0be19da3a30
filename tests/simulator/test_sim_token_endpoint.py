"""/oauth/token beyond rotation: counters, delay, outages, revocation, deactivation, old tokens."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from gptgate.simulator import RunningSimulator
from gptgate.simulator.tokens import CLIENT_ID, decode_jwt_claims
from tests.simulator.sim_helpers import TURN_PATH, turn_body

DEACTIVATED_GRANT = {
    "error": {
        "message": "Your OpenAI account has been deactivated, please check your email for more information. "
        "If you feel this is an error, contact us through our help center at help.openai.com.",
        "type": "invalid_request_error",
        "code": "account_deactivated",
    }
}


async def refresh(http: aiohttp.ClientSession, sim: RunningSimulator, token: str) -> tuple[int, Any]:
    body = {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": token}
    async with http.post(sim.base_url + "/oauth/token", json=body) as response:
        return response.status, await response.json()


async def stats(http: aiohttp.ClientSession, sim: RunningSimulator) -> dict[str, Any]:
    async with http.get(sim.base_url + "/_sim/stats") as response:
        result: dict[str, Any] = await response.json()
        return result


async def control(http: aiohttp.ClientSession, method: str, url: str, body: Any) -> Any:
    async with http.request(method, url, json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


def counts(calls: int = 0, ok: int = 0, rejected: int = 0, failed: int = 0) -> dict[str, int]:
    return {"calls": calls, "ok": ok, "rejected": rejected, "failed": failed}


async def test_refresh_counts_per_account(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=2)
    first, second = sim.state.seeded
    status, tokens = await refresh(http, sim, first.refresh_token)
    assert status == 200
    assert (await refresh(http, sim, first.refresh_token))[0] == 401
    assert (await refresh(http, sim, "rt-nobody"))[0] == 401
    assert (await stats(http, sim))["refresh"] == {
        first.account_id: counts(calls=2, ok=1, rejected=1),
        "(unknown)": counts(calls=1, rejected=1),
    }
    assert (await refresh(http, sim, tokens["refresh_token"]))[0] == 200
    assert (await refresh(http, sim, second.refresh_token))[0] == 200
    refreshed = (await stats(http, sim))["refresh"]
    assert refreshed[first.account_id]["ok"] == 2 and refreshed[second.account_id] == counts(calls=1, ok=1)


async def test_tokens_follow_lifetime_and_old_access_token_keeps_working(
    http: aiohttp.ClientSession, make_sim: Any
) -> None:
    sim = await make_sim(accounts=1, access_token_lifetime_s=3600)
    (account,) = sim.state.seeded
    sim.state.advance_time(1800)
    status, tokens = await refresh(http, sim, account.refresh_token)
    claims = decode_jwt_claims(tokens["access_token"])
    assert status == 200 and tokens["expires_in"] == 3600
    assert claims is not None and abs(claims["exp"] - (time.time() + 1800 + 3600)) < 5

    async def turn_status(access_token: str) -> int:
        headers = {"authorization": "Bearer " + access_token, "chatgpt-account-id": account.account_id}
        async with http.post(sim.base_url + TURN_PATH, json=turn_body(), headers=headers) as response:
            return response.status

    assert await turn_status(account.access_token) == 200  # replaced, but not expired yet
    sim.state.advance_time(1801)
    assert (await turn_status(account.access_token), await turn_status(tokens["access_token"])) == (401, 200)


async def test_delay_makes_concurrent_refreshes_overlap(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=1, auth_delay_ms=150)
    (account,) = sim.state.seeded
    started = time.monotonic()
    results = await asyncio.gather(*(refresh(http, sim, account.refresh_token) for _ in range(2)))
    assert 0.15 <= time.monotonic() - started < 0.29  # both waited at the same time
    assert sorted(status for status, _ in results) == [200, 401]
    assert {"error": "invalid_grant", "code": "refresh_token_reused"} in [body for _, body in results]
    assert (await stats(http, sim))["refresh"][account.account_id] == counts(calls=2, ok=1, rejected=1)
    settings = await control(http, "PUT", sim.base_url + "/_sim/auth", {"delay_ms": 0})
    assert settings == {"delay_ms": 0.0, "outage": None, "queued_faults": 0}


@pytest.mark.parametrize(
    ("kind", "status", "body", "retry_after"),
    [
        ("server_error", 500, {"error": "server_error"}, None),
        ("unavailable", 503, {"error": "temporarily_unavailable"}, "7"),
        ("rate_limited", 429, {"error": "rate_limited"}, "1"),
    ],
)
async def test_outage_faults(
    http: aiohttp.ClientSession,
    make_sim: Any,
    kind: str,
    status: int,
    body: dict[str, str],
    retry_after: str | None,
) -> None:
    sim = await make_sim(accounts=1)
    (account,) = sim.state.seeded
    fault = {"kind": kind, **({"retry_after": 7} if kind == "unavailable" else {})}
    await control(http, "POST", sim.base_url + "/_sim/auth/faults", {"faults": [fault]})
    form = {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": account.refresh_token}
    async with http.post(sim.base_url + "/oauth/token", json=form) as response:
        assert response.status == status and response.headers.get("retry-after") == retry_after
        answer = await response.json()
    assert answer["error"] == body["error"] and "code" not in answer  # never a grant error
    assert (await refresh(http, sim, account.refresh_token))[0] == 200  # nothing was spent
    assert (await stats(http, sim))["refresh"][account.account_id] == counts(calls=2, ok=1, failed=1)


async def test_standing_outage_until_cleared(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=1)
    (account,) = sim.state.seeded
    url = sim.base_url + "/_sim/auth"
    settings = await control(http, "PUT", url, {"outage": {"kind": "unavailable"}})
    assert settings["outage"] == {"kind": "unavailable"}
    assert [(await refresh(http, sim, account.refresh_token))[0] for _ in range(3)] == [503] * 3
    await control(http, "PUT", url, {"outage": None})
    assert (await refresh(http, sim, account.refresh_token))[0] == 200


async def test_timeout_fault_hangs_without_spending(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=1)
    (account,) = sim.state.seeded
    await control(
        http, "POST", sim.base_url + "/_sim/auth/faults", {"faults": [{"kind": "timeout", "ms": 5000}]}
    )
    body = {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": account.refresh_token}
    with pytest.raises(TimeoutError):
        async with http.post(
            sim.base_url + "/oauth/token", json=body, timeout=aiohttp.ClientTimeout(total=0.2)
        ) as response:
            await response.read()
    assert (await refresh(http, sim, account.refresh_token))[0] == 200
    await control(
        http, "POST", sim.base_url + "/_sim/auth/faults", {"faults": [{"kind": "timeout", "ms": 50}]}
    )
    status, answer = await refresh(http, sim, account.refresh_token)
    assert status == 504 and answer["error"] == "timeout"


async def test_drop_spends_the_token_and_loses_the_reply(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=1)
    (account,) = sim.state.seeded
    await control(http, "POST", sim.base_url + "/_sim/auth/faults", {"faults": [{"kind": "drop"}]})
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await refresh(http, sim, account.refresh_token)
    assert await refresh(http, sim, account.refresh_token) == (
        401,
        {"error": "invalid_grant", "code": "refresh_token_reused"},
    )
    assert (await stats(http, sim))["refresh"][account.account_id] == counts(
        calls=2, ok=1, rejected=1, failed=1
    )


async def test_auth_fault_validation(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    for body in ({"faults": [{"kind": "nope"}]}, {"faults": "x"}, {"faults": [1]}):
        async with http.post(sim.base_url + "/_sim/auth/faults", json=body) as response:
            assert response.status == 400
    async with http.put(sim.base_url + "/_sim/auth", json={"delay_ms": -1}) as response:
        assert response.status == 400
    await control(http, "POST", sim.base_url + "/_sim/auth/faults", {"faults": [{"kind": "drop"}] * 2})
    assert await control(http, "DELETE", sim.base_url + "/_sim/auth/faults", None) == {"cleared": 2}


@pytest.mark.parametrize("code", [None, "refresh_token_expired"])
async def test_revoke_one_token(http: aiohttp.ClientSession, make_sim: Any, code: str | None) -> None:
    sim = await make_sim(accounts=2)
    first, second = sim.state.seeded
    body = {"refresh_token": first.refresh_token, **({"code": code} if code else {})}
    assert await control(http, "POST", sim.base_url + "/_sim/refresh-tokens/revoke", body) == {"revoked": 1}
    assert await refresh(http, sim, first.refresh_token) == (
        401,
        {"error": "invalid_grant", "code": code or "refresh_token_invalidated"},
    )
    assert (await refresh(http, sim, second.refresh_token))[0] == 200


async def test_revoke_by_account(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=1)
    (account,) = sim.state.seeded
    _, tokens = await refresh(http, sim, account.refresh_token)
    revoked = await control(
        http, "POST", sim.base_url + "/_sim/refresh-tokens/revoke", {"account_id": account.account_id}
    )
    assert revoked == {"revoked": 1}  # the spent one was already dead
    assert (await refresh(http, sim, tokens["refresh_token"]))[1]["code"] == "refresh_token_invalidated"
    for body in ({}, {"refresh_token": "a", "account_id": "b"}, {"refresh_token": "a", "code": "other"}):
        async with http.post(sim.base_url + "/_sim/refresh-tokens/revoke", json=body) as response:
            assert response.status == 400


async def test_deactivated_account_cannot_refresh(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(accounts=1)
    (account,) = sim.state.seeded
    sim.state.logins.set_deactivated(account.account_id, True)
    assert await refresh(http, sim, account.refresh_token) == (401, DEACTIVATED_GRANT)
    sim.state.logins.set_deactivated(account.account_id, False)
    assert (await refresh(http, sim, account.refresh_token))[0] == 200  # the refusal spent nothing
