"""The admin keys API on a served gateway (the console's contract), and ``api_prefix``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import orjson

from gptgate.simulator.server import RunningSimulator
from tests.support import start_gateway

ADMIN = {"Authorization": "Bearer admin-token-for-key-tests"}


def chat_body() -> bytes:
    return orjson.dumps({"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]})


async def call(http: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> tuple[int, Any]:
    async with http.request(
        method, url, data=None if body is None else orjson.dumps(body), headers=ADMIN
    ) as resp:
        return resp.status, orjson.loads(await resp.read())


async def test_create_list_patch_rotate_revoke_through_the_admin_api(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    served = await start_gateway(
        simulator.base_url,
        account_store=True,
        data_dir=tmp_path,
        admin_token="admin-token-for-key-tests",
    )
    api = served.base_url + "/admin/api"
    try:
        async with aiohttp.ClientSession() as http:
            status, created = await call(
                http, "POST", api + "/keys", {"name": "ci", "limits": {"rpm": 5, "models": ["gpt-5*"]}}
            )
            assert status == 201
            secret, key = created["secret"], created["key"]
            assert secret.startswith("gg-") and key["prefix"] == secret[:9]
            assert key["limits"]["rpm"] == 5 and key["usage"] == {
                "requests": 0,
                "input_tokens": 0,
                "output_tokens": 0,
            }
            await served.gateway.keys.reload()  # type: ignore[union-attr]  (the poll would, within reload_seconds)
            async with http.post(
                served.base_url + "/v1/chat/completions",
                data=chat_body(),
                headers={"Authorization": "Bearer " + secret},
            ) as resp:
                assert resp.status == 200
            async with http.post(served.base_url + "/v1/chat/completions", data=chat_body()) as resp:
                assert resp.status == 401  # once a key is stored, a key is needed
            status, listed = await call(http, "GET", api + "/keys")
            assert status == 200 and [k["name"] for k in listed["keys"]] == ["ci"]
            assert secret not in orjson.dumps(listed).decode()
            status, patched = await call(http, "PATCH", api + f"/keys/{key['id']}", {"limits": {"rpm": 9}})
            assert (status, patched["key"]["limits"]["rpm"], patched["key"]["limits"]["models"]) == (
                200,
                9,
                ["gpt-5*"],
            )
            status, bad = await call(http, "PATCH", api + f"/keys/{key['id']}", {"limits": {"rpm": -2}})
            assert (status, bad["error"]["code"]) == (400, "invalid_limits")
            status, rotated = await call(http, "POST", api + f"/keys/{key['id']}/rotate")
            assert status == 200 and rotated["secret"] != secret
            status, revoked = await call(http, "POST", api + f"/keys/{key['id']}/revoke")
            assert status == 200 and revoked["key"]["revoked_at"] is not None
            status, missing = await call(http, "POST", api + "/keys/key_nope/revoke")
            assert (status, missing["error"]["code"]) == (404, "not_found")
    finally:
        await served.close()


async def test_api_prefix_serves_the_api_only_under_it(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url, api_prefix="/s3cret/")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(served.base_url + "/s3cret/v1/chat/completions", data=chat_body()) as resp:
                assert resp.status == 200
            async with http.post(served.base_url + "/v1/chat/completions", data=chat_body()) as resp:
                assert resp.status == 404
            async with http.get(
                served.base_url + "/s3cret/v1/models", headers={"anthropic-version": "2023-06-01"}
            ) as resp:
                assert resp.status == 200 and "data" in orjson.loads(await resp.read())
            async with http.get(served.base_url + "/healthz") as resp:
                assert resp.status == 200
    finally:
        await served.close()
