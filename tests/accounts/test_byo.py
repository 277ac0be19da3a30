"""Bring-your-own-token mode: detection, the account cache, and requests over real sockets."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from gptgate.accounts.byo import ByoAccounts, Credential, parse_credential, token_kind
from gptgate.accounts.oauth import CODEX_CLIENT_ID
from gptgate.errors import AuthenticationError
from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.logins import Credentials
from gptgate.simulator.server import RunningSimulator, start_simulator
from gptgate.simulator.state import Fault
from gptgate.simulator.tokens import encode_jwt, make_access_token
from tests.support import Served, start_gateway
from tests.support import test_account as pool_account

TURN = "/backend-api/codex/responses"
CHAT = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
REFRESH = "rt_" + "a" * 40


# -- detection --------------------------------------------------------------------------------
def test_token_kinds() -> None:
    assert token_kind(make_access_token("acct-1")) == "access"
    assert token_kind(encode_jwt({"sub": "x", "exp": 1})) is None  # a JWT, but not ChatGPT's
    assert token_kind(REFRESH) == "refresh"
    assert token_kind("sk-" + "b" * 40) is None
    assert token_kind("sk-" + "b" * 40, opaque_refresh=True) == "refresh"
    assert token_kind("rt_short") is None
    assert token_kind("rt_" + "a" * 20 + " x") is None


def test_account_id_from_the_comma_form_or_the_header() -> None:
    token = make_access_token("acct-1")
    assert parse_credential(token) == Credential("access", token, None)
    assert parse_credential(f"{token},ws-team") == Credential("access", token, "ws-team")
    assert parse_credential(token, "ws-header") == Credential("access", token, "ws-header")
    assert parse_credential(f"{token},ws-team", "ws-header") == Credential("access", token, "ws-team")
    assert parse_credential(f"{REFRESH} , ws-team") == Credential("refresh", REFRESH, "ws-team")
    assert parse_credential("sk-gateway-key,ws-team") is None
    with pytest.raises(AuthenticationError) as caught:
        parse_credential(f"{token},bad id\r\n")
    assert caught.value.code == "invalid_account_id"


async def test_cache_is_bounded_and_refuses_expired_access_tokens() -> None:
    byo = ByoAccounts(token_url="http://127.0.0.1:9/oauth/token", client_id="c", timeout=1, size=2)
    tokens = [make_access_token(f"acct-{n}") for n in range(3)]
    accounts = [await byo.account(Credential("access", t)) for t in tokens]
    assert [a.account_id for a in accounts] == ["acct-0", "acct-1", "acct-2"]
    assert byo.cached == 2
    assert await byo.account(Credential("access", tokens[2])) is accounts[2]
    assert tokens[0] not in repr(accounts[0]) and accounts[0].id.startswith("byo-")
    expired = make_access_token("acct-9", exp=int(time.time()) - 5)
    with pytest.raises(AuthenticationError) as caught:
        await byo.account(Credential("access", expired))
    assert caught.value.code == "token_expired" and expired not in caught.value.message
    await byo.close()


async def test_refresh_chain_renews_with_the_rotated_token(simulator: RunningSimulator) -> None:
    creds = simulator.state.seed_accounts(1)[0]
    now = [time.time()]
    byo = ByoAccounts(
        token_url=simulator.base_url + "/oauth/token",
        client_id=CODEX_CLIENT_ID,
        timeout=5,
        clock=lambda: now[0],
    )
    credential = Credential("refresh", creds.refresh_token)
    first = await byo.account(credential)
    assert first.account_id == creds.account_id and first.expires_at is not None
    assert await byo.account(credential) is first and byo.exchanges == 1
    now[0] = first.expires_at - 30  # inside the renewal margin
    second = await byo.account(credential)
    assert second is first and first.token_version == 2 and byo.exchanges == 2
    stats = simulator.state.logins.stats()["refresh"][creds.account_id]
    assert (stats["ok"], stats["rejected"]) == (2, 0)  # the rotated token was spent, not the original
    await byo.close()


# -- served -----------------------------------------------------------------------------------
async def byo_gateway(sim: RunningSimulator, **overrides: Any) -> Served:
    settings = {"byo_tokens": True, "oauth_token_url": sim.base_url + "/oauth/token", **overrides}
    return await start_gateway(sim.base_url, **settings)


@pytest.fixture
async def served(simulator: RunningSimulator) -> AsyncIterator[Served]:
    gw = await byo_gateway(simulator)
    yield gw
    await gw.close()


@pytest.fixture
async def loose_simulator() -> AsyncIterator[RunningSimulator]:
    """A simulator that does not check the account header against the token (Team workspaces)."""
    sim = await start_simulator(SimulatorConfig(require_auth=False))
    yield sim
    await sim.close()


async def call(
    base: str,
    key: str | None,
    body: dict[str, Any] = CHAT,
    path: str = "/v1/chat/completions",
    **headers: str,
) -> tuple[int, Any]:
    hdrs = {"authorization": f"Bearer {key}"} if key else {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(base + path, json=body, headers={**hdrs, **headers}) as resp,
    ):
        raw = await resp.read()
    return resp.status, orjson.loads(raw) if not body.get("stream") else raw


def turns(sim: RunningSimulator) -> list[dict[str, str]]:
    return [r["headers"] for r in sim.state.requests if r["path"] == TURN]


async def test_access_token_is_served_from_its_own_account(
    simulator: RunningSimulator, served: Served
) -> None:
    creds = simulator.state.seed_accounts(1)[0]
    status, body = await call(served.base_url, creds.access_token)
    assert status == 200 and body["choices"][0]["message"]["content"]
    status, raw = await call(served.base_url, creds.access_token, {**CHAT, "stream": True})
    assert status == 200 and raw.rstrip().endswith(b"data: [DONE]")
    for headers in turns(simulator):
        assert headers["authorization"] == "Bearer " + creds.access_token
        assert headers["chatgpt-account-id"] == creds.account_id
    assert len(turns(simulator)) == 2
    assert served.gateway is not None and served.gateway.pool.accounts[0].in_flight == 0


async def test_workspace_from_the_comma_form_and_the_header(loose_simulator: RunningSimulator) -> None:
    served = await byo_gateway(loose_simulator)
    token = make_access_token("acct-personal")
    try:
        assert (await call(served.base_url, f"{token},ws-team-1"))[0] == 200
        assert (await call(served.base_url, token, **{"ChatGPT-Account-ID": "ws-team-2"}))[0] == 200
        assert (await call(served.base_url, token))[0] == 200
    finally:
        await served.close()
    seen = [(h["authorization"], h["chatgpt-account-id"]) for h in turns(loose_simulator)]
    bearer = "Bearer " + token
    assert seen == [(bearer, "ws-team-1"), (bearer, "ws-team-2"), (bearer, "acct-personal")]


async def test_refresh_token_is_exchanged_once_for_concurrent_requests() -> None:
    sim = await start_simulator(SimulatorConfig(auth_delay_ms=150))
    creds = sim.state.seed_accounts(1)[0]
    served = await byo_gateway(sim)
    try:
        results = await asyncio.gather(*(call(served.base_url, creds.refresh_token) for _ in range(20)))
        assert [status for status, _ in results] == [200] * 20
        assert (await call(served.base_url, creds.refresh_token))[0] == 200
    finally:
        await served.close()
        await sim.close()
    assert sim.state.logins.stats()["refresh"][creds.account_id] == {
        "calls": 1,
        "ok": 1,
        "rejected": 0,
        "failed": 0,
    }
    assert len({h["authorization"] for h in turns(sim)}) == 1
    assert {h["chatgpt-account-id"] for h in turns(sim)} == {creds.account_id}


async def test_refused_refresh_token_is_a_401_and_remembered(
    simulator: RunningSimulator, served: Served
) -> None:
    for _ in range(2):
        status, body = await call(served.base_url, REFRESH)
        assert status == 401 and body["error"]["code"] == "refresh_token_refused"
        assert REFRESH not in body["error"]["message"]
    assert simulator.state.logins.stats()["refresh"]["(unknown)"]["calls"] == 1
    assert turns(simulator) == []


async def test_401_on_a_refreshed_token_re_exchanges_once(
    simulator: RunningSimulator, served: Served
) -> None:
    creds = simulator.state.seed_accounts(1)[0]
    assert (await call(served.base_url, creds.refresh_token))[0] == 200
    simulator.state.queue_faults([Fault("unauthorized", account_id=creds.account_id)])
    assert (await call(served.base_url, creds.refresh_token))[0] == 200
    stats = simulator.state.logins.stats()["refresh"][creds.account_id]
    assert (stats["ok"], stats["rejected"]) == (2, 0)
    assert len(turns(simulator)) == 3  # 200; 401, then 200 with the re-exchanged token


async def test_token_endpoint_outage_is_transient(simulator: RunningSimulator, served: Served) -> None:
    creds = simulator.state.seed_accounts(1)[0]
    simulator.state.auth_faults.append(Fault("unavailable", {"retry_after": 2}))
    status, body = await call(served.base_url, creds.refresh_token, MESSAGES, "/v1/messages")
    assert status == 502 and anthropic_error(body)["type"] == "overloaded_error"
    assert (await call(served.base_url, creds.refresh_token))[0] == 200  # nothing was spent
    assert simulator.state.logins.stats()["refresh"][creds.account_id]["ok"] == 1


def anthropic_error(body: Any) -> dict[str, Any]:
    assert body["type"] == "error" and set(body) == {"type", "error", "request_id"}
    error: dict[str, Any] = body["error"]
    return error


async def test_expired_access_token_is_a_401_in_the_client_protocol(
    simulator: RunningSimulator, served: Served
) -> None:
    expired = make_access_token("acct-old", exp=int(time.time()) - 60)
    status, body = await call(served.base_url, expired)
    assert status == 401 and body["error"]["type"] == "authentication_error"
    assert body["error"]["code"] == "token_expired" and expired not in orjson.dumps(body).decode()
    status, body = await call(
        served.base_url, expired, MESSAGES, "/v1/messages", **{"anthropic-version": "2023-06-01"}
    )
    assert status == 401 and anthropic_error(body)["type"] == "authentication_error"
    assert turns(simulator) == []


async def test_token_the_upstream_refuses_is_a_401_not_retried_on_the_pool(
    simulator: RunningSimulator, served: Served
) -> None:
    head, payload, _ = make_access_token("acct-forged").split(".")
    forged = f"{head}.{payload}.{'x' * 43}"  # claims fine, signature wrong: the upstream's 401
    status, body = await call(served.base_url, forged)
    assert status == 401 and body["error"]["code"] == "token_expired"
    status, body = await call(served.base_url, forged, MESSAGES, "/v1/messages")
    assert status == 401 and anthropic_error(body)["type"] == "authentication_error"
    assert [h["authorization"] for h in turns(simulator)] == ["Bearer " + forged] * 2


async def test_mode_off_a_token_is_just_a_wrong_api_key(simulator: RunningSimulator) -> None:
    creds = simulator.state.seed_accounts(1)[0]
    served = await start_gateway(simulator.base_url, api_keys=["sk-gateway-key"])
    try:
        status, body = await call(served.base_url, creds.access_token)
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
        status, body = await call(served.base_url, creds.refresh_token)
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
        assert (await call(served.base_url, "sk-gateway-key"))[0] == 200
    finally:
        await served.close()
    # the pool's account (its token is minted per call: compare the account it names)
    assert [h["chatgpt-account-id"] for h in turns(simulator)] == [pool_account().account_id]


async def test_api_keys_use_the_pool_and_tokens_themselves(simulator: RunningSimulator) -> None:
    creds = simulator.state.seed_accounts(1)[0]
    served = await byo_gateway(simulator, api_keys=["sk-gateway-key"])
    try:
        assert (await call(served.base_url, "sk-gateway-key"))[0] == 200
        assert (await call(served.base_url, creds.access_token))[0] == 200
        status, body = await call(served.base_url, "sk-wrong-key")
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
    finally:
        await served.close()
    sent = turns(simulator)
    assert [h["chatgpt-account-id"] for h in sent] == [pool_account().account_id, creds.account_id]
    assert sent[1]["authorization"] == "Bearer " + creds.access_token


async def test_byo_only_refuses_requests_without_a_token(simulator: RunningSimulator) -> None:
    open_gw = await byo_gateway(simulator)
    only_gw = await byo_gateway(simulator, byo_only=True)
    try:
        assert (await call(open_gw.base_url, None))[0] == 200  # no keys: the pool, as without BYO
        for key in (None, "sk-anything"):
            status, body = await call(only_gw.base_url, key)
            assert status == 401 and body["error"]["code"] == "missing_chatgpt_token"
    finally:
        await open_gw.close()
        await only_gw.close()


async def test_no_token_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sim = await start_simulator(SimulatorConfig())
    creds: Credentials = sim.state.seed_accounts(1)[0]
    served = await byo_gateway(sim, api_keys=["sk-gateway-key"])
    expired = make_access_token("acct-old", exp=int(time.time()) - 60)
    try:
        for key in (creds.refresh_token, creds.refresh_token, creds.access_token, REFRESH, expired):
            await call(served.base_url, key)
        sim.state.queue_faults([Fault("unauthorized", account_id=creds.account_id)])
        await call(served.base_url, f"{creds.refresh_token},{creds.account_id}")
    finally:
        await served.close()
        await sim.close()
    secrets = {creds.refresh_token, creds.access_token, REFRESH, expired, *sim.state.refresh_tokens}
    secrets |= {h["authorization"].removeprefix("Bearer ") for h in turns(sim)}
    assert len(secrets) >= 5 and caplog.text
    assert not [s for s in secrets if s in caplog.text]
