"""The simulator's compaction, standalone search and accounts check (``codex_extras.py``)."""

from __future__ import annotations

import aiohttp
import orjson

from gptgate.simulator import RunningSimulator
from gptgate.simulator.codex_extras import seal, sealed_by
from tests.simulator.sim_helpers import TURN_PATH, auth_headers, turn_body

COMPACT = "/backend-api/codex/responses/compact"


async def test_compaction_is_sealed_for_its_account_and_refused_elsewhere(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    body = {"model": "gpt-5.5", "input": turn_body()["input"], "instructions": ""}
    async with http.post(sim.base_url + COMPACT, json=body, headers=auth_headers("acct-one")) as resp:
        assert resp.status == 200 and "x-codex-turn-state" in resp.headers
        output = (await resp.json())["output"]
    assert [i["type"] for i in output] == ["message", "compaction"]
    assert sealed_by(output[-1]["encrypted_content"]) == "acct-one"
    carried = turn_body(input=[*output, *turn_body("next")["input"]])
    async with http.post(sim.base_url + TURN_PATH, json=carried, headers=auth_headers("acct-one")) as resp:
        assert resp.status == 200
        await resp.read()
    async with http.post(sim.base_url + TURN_PATH, json=carried, headers=auth_headers("acct-two")) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "invalid_encrypted_content"
    async with http.post(
        sim.base_url + COMPACT, json={**body, "stream": True}, headers=auth_headers()
    ) as resp:
        assert (resp.status, await resp.json()) == (400, {"detail": "Unsupported parameter: stream"})


async def test_search_and_accounts_check(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    body = {"id": "s1", "model": "gpt-5.5", "commands": {"search_query": [{"q": "gptgate"}]}}
    headers = auth_headers("acct-one")
    async with http.post(
        sim.base_url + "/backend-api/codex/alpha/search", json=body, headers=headers
    ) as resp:
        answer = await resp.json()
    assert (
        answer["output"]
        == "Simulated search results for gptgate: https://example.com/search (Example Domain)."
    )
    assert sealed_by(answer["encrypted_output"]) == "acct-one"
    async with http.get(sim.base_url + "/backend-api/wham/accounts/check", headers=headers) as resp:
        assert orjson.loads(await resp.read()) == {
            "accounts": [
                {"id": "acct-one", "name": None, "profile_picture_url": None, "structure": "personal"}
            ],
            "account_ordering": ["acct-one"],
        }


def test_seals_name_their_account_and_nothing_else_is_read() -> None:
    assert sealed_by(seal("acct-x", "what")) == "acct-x"
    assert sealed_by("gAAAAABreal-fernet-token") is None
