"""/oauth/token rotation, /codex/models catalog, and the unsigned JWTs."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from gptgate.simulator import RunningSimulator, make_access_token, make_id_token
from gptgate.simulator.config import DEFAULT_MODELS
from gptgate.simulator.tokens import CLIENT_ID, decode_jwt_claims, signature_valid
from tests.simulator.sim_helpers import ACCOUNT, TURN_PATH, auth_headers, turn_body

MODELS_PATH = "/backend-api/codex/models"


def refresh_form(token: str) -> dict[str, str]:
    return {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": token}


async def refresh(
    http: aiohttp.ClientSession, sim: RunningSimulator, token: str, form: bool = False
) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"data": refresh_form(token)} if form else {"json": refresh_form(token)}
    async with http.post(sim.base_url + "/oauth/token", **kwargs) as response:
        return response.status, await response.json()


def test_access_token_shape() -> None:
    token = make_access_token("acc-9", plan="pro", email="a@b.c", user_id="user-9")
    header, _, signature = token.split(".")
    assert decode_jwt_claims(header) is None
    claims = decode_jwt_claims(token)
    assert claims is not None
    auth = claims["https://api.openai.com/auth"]
    assert auth["chatgpt_account_id"] == "acc-9" and auth["chatgpt_plan_type"] == "pro"
    assert auth["chatgpt_user_id"] == auth["user_id"] == "user-9"
    assert claims["https://api.openai.com/profile"]["email"] == "a@b.c"
    assert abs(claims["exp"] - (time.time() + 10 * 86400)) < 5
    assert {"iat", "iss", "aud", "client_id", "scp"} <= set(claims)
    assert signature_valid(token) and len(signature) == 43  # base64url of an HMAC-SHA256
    # flip a character in the middle of the signature (the last one partly carries padding bits)
    head, _, sig = token.rpartition(".")
    mid = len(sig) // 2
    forged = head + "." + sig[:mid] + ("A" if sig[mid] != "A" else "B") + sig[mid + 1 :]
    assert not signature_valid(forged) and not signature_valid("a.b")
    id_claims = decode_jwt_claims(make_id_token("acc-9", exp=123))
    assert id_claims is not None and id_claims["exp"] == 123 and id_claims["email"] == "demo@example.com"


async def test_refresh_rotates_and_rejects_reuse(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    sim.state.add_refresh_token("rt-1", "acc-r", plan="pro")
    status, tokens = await refresh(http, sim, "rt-1")
    assert status == 200
    assert set(tokens) == {"id_token", "access_token", "refresh_token", "expires_in", "token_type"}
    assert tokens["refresh_token"] != "rt-1" and tokens["token_type"] == "Bearer"
    claims = decode_jwt_claims(tokens["access_token"])
    assert claims is not None and claims["https://api.openai.com/auth"]["chatgpt_account_id"] == "acc-r"
    assert await refresh(http, sim, "rt-1") == (
        401,
        {"error": "invalid_grant", "code": "refresh_token_reused"},
    )
    status, again = await refresh(http, sim, tokens["refresh_token"], form=True)
    assert status == 200 and again["refresh_token"] not in ("rt-1", tokens["refresh_token"])
    headers = {"authorization": "Bearer " + again["access_token"], "chatgpt-account-id": "acc-r"}
    async with http.post(sim.base_url + TURN_PATH, json=turn_body(), headers=headers) as response:
        assert response.status == 200 and response.headers["x-codex-plan-type"] == "pro"


async def test_refresh_unknown_token(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    assert await refresh(http, sim, "nope") == (
        401,
        {"error": "invalid_grant", "code": "refresh_token_invalidated"},
    )


async def test_refresh_bad_requests(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    sim.state.add_refresh_token("rt-2", "acc")
    async with http.post(
        sim.base_url + "/oauth/token", json={**refresh_form("rt-2"), "grant_type": "password"}
    ) as r:
        assert r.status == 400
    async with http.post(sim.base_url + "/oauth/token", json={**refresh_form("rt-2"), "client_id": "x"}) as r:
        assert r.status == 401
    assert (await refresh(http, sim, "rt-2"))[0] == 200  # the refused attempts did not spend it


async def test_refresh_token_seeded_over_http(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    seed = {"refresh_token": "rt-http", "account_id": "acc-h", "plan": "team"}
    async with http.post(sim.base_url + "/_sim/refresh-tokens", json=seed) as response:
        assert response.status == 200
    status, tokens = await refresh(http, sim, "rt-http")
    claims = decode_jwt_claims(tokens["id_token"])
    assert status == 200 and claims is not None
    assert claims["https://api.openai.com/auth"]["chatgpt_plan_type"] == "team"


async def test_models_catalog(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    url = sim.base_url + MODELS_PATH + "?client_version=0.169.0"
    async with http.get(url, headers=auth_headers()) as response:
        assert response.status == 200 and response.headers["content-type"] == "application/json"
        etag = response.headers["etag"]
        models = (await response.json())["models"]
    assert [m["slug"] for m in models] == list(DEFAULT_MODELS)
    required = {
        "slug", "display_name", "description", "default_reasoning_level", "supported_reasoning_levels",
        "visibility", "supported_in_api", "priority", "context_window", "input_modalities",
        "supports_reasoning_summaries", "supports_parallel_tool_calls",
    }  # fmt: skip
    for model in models:
        assert required <= set(model) and model["context_window"] == 272000
        assert all(set(level) == {"effort", "description"} for level in model["supported_reasoning_levels"])
    sol = next(m for m in models if m["slug"] == "gpt-6.1-sol")
    assert sol["use_responses_lite"] is True
    async with http.get(url, headers={**auth_headers(), "if-none-match": etag}) as response:
        assert response.status == 304


async def test_models_needs_client_version_and_auth(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    async with http.get(sim.base_url + MODELS_PATH, headers=auth_headers()) as response:
        assert response.status == 400 and "client_version" in (await response.json())["detail"]
    async with http.get(sim.base_url + MODELS_PATH + "?client_version=1") as response:
        assert response.status == 401


async def test_models_follow_config(http: aiohttp.ClientSession, make_sim: Any) -> None:
    sim = await make_sim(models=["my-model"])
    async with http.get(sim.base_url + MODELS_PATH + "?client_version=1", headers=auth_headers()) as response:
        assert [m["slug"] for m in (await response.json())["models"]] == ["my-model"]
    body = turn_body(model="my-model")
    async with http.post(sim.base_url + TURN_PATH, json=body, headers=auth_headers(ACCOUNT)) as response:
        assert response.status == 200
