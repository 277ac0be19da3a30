"""What the simulated backend refuses: body, fields, auth."""

from __future__ import annotations

import gzip
import time
from typing import Any

import aiohttp
import orjson
import pytest
import zstandard

from gptgate.simulator import RunningSimulator, make_access_token
from gptgate.simulator.validate import FORBIDDEN_PARAMS
from tests.simulator.sim_helpers import ACCOUNT, TURN_PATH, auth_headers, turn_body


async def send(
    http: aiohttp.ClientSession,
    sim: RunningSimulator,
    body: Any,
    headers: dict[str, str] | None = None,
    path: str = TURN_PATH,
) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    all_headers = {"content-type": "application/json", **(auth_headers() if headers is None else headers)}
    async with http.post(sim.base_url + path, data=data, headers=all_headers) as response:
        raw = await response.read()
        return response.status, orjson.loads(raw) if response.status != 200 else raw


@pytest.mark.parametrize("name", sorted(FORBIDDEN_PARAMS))
async def test_forbidden_parameters(http: aiohttp.ClientSession, sim: RunningSimulator, name: str) -> None:
    assert await send(http, sim, {**turn_body(), name: 1}) == (
        400,
        {"detail": f"Unsupported parameter: {name}"},
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"stream": False}, "Stream must be set to true"),
        ({"stream": None}, "Stream must be set to true"),
        ({"store": True}, "Store must be set to false"),
        ({"store": None}, "Store must be set to false"),
        ({"input": "hello"}, "Input must be a list"),
        ({"model": "gpt-5"}, "The 'gpt-5' model is not supported when using Codex with a ChatGPT account."),
        ({"model": None}, "Model is required"),
    ],
)
async def test_detail_errors(
    http: aiohttp.ClientSession, sim: RunningSimulator, change: dict[str, Any], message: str
) -> None:
    body = {k: v for k, v in {**turn_body(), **change}.items() if v is not None}
    assert await send(http, sim, body) == (400, {"detail": message})


async def test_system_role_refused(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    body = turn_body()
    body["input"].insert(0, {"type": "message", "role": "system", "content": "be nice"})
    status, error = await send(http, sim, body)
    assert status == 400 and "developer" in error["detail"]


async def test_unsupported_effort(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    status, error = await send(http, sim, turn_body(reasoning={"effort": "extreme"}))
    assert status == 400
    assert error == {
        "error": {
            "type": "invalid_request_error",
            "code": "unsupported_value",
            "param": "reasoning.effort",
            "message": "Unsupported value: 'extreme' is not supported with this model.",
        }
    }


@pytest.mark.parametrize("effort", ["none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra"])
async def test_supported_efforts(http: aiohttp.ClientSession, sim: RunningSimulator, effort: str) -> None:
    assert (await send(http, sim, turn_body(reasoning={"effort": effort})))[0] == 200


async def test_not_json(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    assert (await send(http, sim, b"{nope"))[0] == 400


@pytest.mark.parametrize("encoding", ["zstd", "gzip"])
async def test_compressed_bodies(http: aiohttp.ClientSession, sim: RunningSimulator, encoding: str) -> None:
    plain = orjson.dumps(turn_body())
    data = zstandard.ZstdCompressor().compress(plain) if encoding == "zstd" else gzip.compress(plain)
    status, raw = await send(http, sim, data, {**auth_headers(), "content-encoding": encoding})
    assert status == 200 and raw.endswith(b"\n\n")
    assert sim.state.requests[-1]["body"] == turn_body()


async def test_corrupt_zstd_body(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    assert (await send(http, sim, b"garbage", {**auth_headers(), "content-encoding": "zstd"}))[0] == 400


async def test_missing_token(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    status, error = await send(http, sim, turn_body(), {"chatgpt-account-id": ACCOUNT})
    assert status == 401 and error["error"]["code"] == "missing_authorization"


async def test_expired_token(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    status, error = await send(http, sim, turn_body(), auth_headers(exp=int(time.time()) - 1))
    assert status == 401
    expected = "Provided authentication token is expired. Please try signing in again."
    assert error == {"error": {"message": expected, "code": "token_expired"}}


async def test_token_expires_with_simulated_time(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    headers = auth_headers(exp=int(time.time()) + 60)
    assert (await send(http, sim, turn_body(), headers))[0] == 200
    sim.state.advance_time(61)
    assert (await send(http, sim, turn_body(), headers))[0] == 401


async def test_non_jwt_token_on_chatgpt_path(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    status, _ = await send(
        http, sim, turn_body(), {"authorization": "Bearer sk-abc", "chatgpt-account-id": ACCOUNT}
    )
    assert status == 401


@pytest.mark.parametrize("account_header", [None, "someone-else"])
async def test_account_header_must_match(
    http: aiohttp.ClientSession, sim: RunningSimulator, account_header: str | None
) -> None:
    headers = {"authorization": "Bearer " + make_access_token(ACCOUNT)}
    if account_header is not None:
        headers["chatgpt-account-id"] = account_header
    status, error = await send(http, sim, turn_body(), headers)
    assert status == 403 and error["error"]["code"] == "account_mismatch"


async def test_v1_accepts_api_keys_without_account(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    headers = {"authorization": "Bearer sk-fake-key"}
    assert (await send(http, sim, turn_body(), headers, path="/v1/responses"))[0] == 200
    expired = {"authorization": "Bearer " + make_access_token(ACCOUNT, exp=1)}
    assert (await send(http, sim, turn_body(), expired, path="/v1/responses"))[0] == 401
    assert (await send(http, sim, turn_body(), {}, path="/v1/responses"))[0] == 401


async def test_no_auth_mode(http: aiohttp.ClientSession, make_sim: Any) -> None:
    simulator = await make_sim(require_auth=False)
    assert (await send(http, simulator, turn_body(), {}))[0] == 200


async def test_auth_checked_before_body(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    assert (await send(http, sim, turn_body(stream=False), {}))[0] == 401


async def test_websocket_upgrade_is_refused(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    async with http.get(sim.base_url + TURN_PATH, headers=auth_headers()) as response:
        assert response.status == 426
