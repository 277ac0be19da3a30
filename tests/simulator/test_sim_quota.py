"""Quota windows: rate-limit headers on 200, the usage-limit 429, /wham/usage, window reset."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import orjson

from gptgate.simulator import RunningSimulator
from gptgate.simulator.state import PRIMARY_WINDOW_S
from tests.simulator.sim_helpers import ACCOUNT, TURN_PATH, auth_headers, fixtures_dir, turn_body

IGNORED = {"content-length", "date", "server"}


def fixture_429() -> tuple[list[str], dict[str, Any]]:
    text = (fixtures_dir() / "codex" / "usage-limit-429.constructed.http").read_text()
    head, body = text.replace("\r\n", "\n").split("\n\n", 1)
    names = [line.split(":", 1)[0].lower() for line in head.split("\n")[1:]]
    return names, orjson.loads(body)


async def turn(
    http: aiohttp.ClientSession, sim: RunningSimulator, account: str = ACCOUNT
) -> aiohttp.ClientResponse:
    async with http.post(
        sim.base_url + TURN_PATH, json=turn_body(), headers=auth_headers(account)
    ) as response:
        await response.read()
        return response


async def test_rate_limit_headers_on_200(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    headers = (await turn(http, sim)).headers
    names, _ = fixture_429()
    for name in names:
        assert name in headers, name
    assert headers["x-codex-primary-window-minutes"] == "300"
    assert headers["x-codex-secondary-window-minutes"] == "10080"
    assert headers["x-codex-plan-type"] == "plus" and headers["x-codex-active-limit"] == "codex"
    assert int(headers["x-codex-primary-reset-at"]) - time.time() > PRIMARY_WINDOW_S - 10


async def test_quota_exhaustion_gives_fixture_429(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(quota_requests_per_window=2)
    first, second = await turn(http, sim), await turn(http, sim)
    assert [
        first.headers["x-codex-primary-used-percent"],
        second.headers["x-codex-primary-used-percent"],
    ] == [
        "50",
        "100",
    ]
    async with http.post(sim.base_url + TURN_PATH, json=turn_body(), headers=auth_headers()) as response:
        body = orjson.loads(await response.read())
        status, headers = response.status, response.headers
    names, fixture_body = fixture_429()
    assert status == 429
    assert [name.lower() for name in headers if name.lower() not in IGNORED] == names
    assert set(body["error"]) == set(fixture_body["error"]) and body["error"]["type"] == "usage_limit_reached"
    assert body["error"]["resets_at"] == int(headers["x-codex-primary-reset-at"])
    assert abs(body["error"]["resets_at"] - body["error"]["resets_in_seconds"] - time.time()) < 5
    assert headers["x-codex-primary-used-percent"] == "100"
    assert (await turn(http, sim, "another-account")).status == 200


async def test_window_reset_restores_service(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(quota_requests_per_window=1)
    assert (await turn(http, sim)).status == 200
    assert (await turn(http, sim)).status == 429
    sim.state.set_window_reset(ACCOUNT, sim.state.now() - 1)
    assert (await turn(http, sim)).status == 200
    assert (await turn(http, sim)).status == 429
    sim.state.advance_time(PRIMARY_WINDOW_S + 1)
    assert (await turn(http, sim)).status == 200
    sim.state.reset_account(ACCOUNT)
    assert (await turn(http, sim)).status == 200


async def test_reset_account_over_http(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(quota_requests_per_window=1)
    await turn(http, sim)
    assert (await turn(http, sim)).status == 429
    async with http.post(f"{sim.base_url}/_sim/accounts/{ACCOUNT}/reset") as response:
        assert response.status == 200
    assert (await turn(http, sim)).status == 200


async def test_wham_usage(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(quota_requests_per_window=4)
    await turn(http, sim)
    async with http.get(
        sim.base_url + "/backend-api/wham/usage", headers=auth_headers(plan="pro")
    ) as response:
        assert response.status == 200
        usage = await response.json()
    assert usage["plan_type"] == "pro"
    limits = usage["rate_limit"]
    assert limits["allowed"] is True and limits["limit_reached"] is False
    assert limits["primary_window"]["used_percent"] == 25
    assert limits["primary_window"]["limit_window_seconds"] == PRIMARY_WINDOW_S
    assert limits["secondary_window"]["limit_window_seconds"] == 604800
    assert set(limits["primary_window"]) == {
        "used_percent",
        "limit_window_seconds",
        "reset_after_seconds",
        "reset_at",
    }
    async with http.get(sim.base_url + "/backend-api/wham/usage") as response:
        assert response.status == 401


async def test_usage_reports_limit_reached(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(quota_requests_per_window=1)
    await turn(http, sim)
    async with http.get(sim.base_url + "/backend-api/wham/usage", headers=auth_headers()) as response:
        limits = (await response.json())["rate_limit"]
    assert limits["limit_reached"] is True and limits["allowed"] is False
    assert limits["primary_window"]["used_percent"] == 100
