"""Codex-native routes over HTTPS: pooled usage, the accounts check, compaction bound to its
account, standalone search, the model list, errors in the shapes Codex reads."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict

from gptgate.accounts.model import Account
from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.tokens import make_access_token
from tests.protocols.codex_native.served import KEY, codex_client, fetch_models
from tests.support import sse_data

A, B = "acct-codex-a", "acct-codex-b"
THREAD = "01a20492-4100-7602-af8b-703a0107e74d"
HEADERS = {
    "authorization": f"Bearer {KEY}",
    "chatgpt-account-id": "11111111-2222-3333-4444-555555555555",
    "session-id": THREAD,
    "originator": "codex_exec",
}


def accounts() -> list[Account]:
    return [
        Account.from_tokens(make_access_token(A, plan="pro"), name="a"),
        Account.from_tokens(make_access_token(B, plan="pro"), name="b"),
    ]


def turn(text: str = "Say hi", **extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-5.5",
        "stream": True,
        "store": False,
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}],
        "prompt_cache_key": THREAD,
        **extra,
    }


async def call(
    http: aiohttp.ClientSession, method: str, url: str, body: Any = None, **headers: str
) -> tuple[int, Mapping[str, str], bytes]:
    data = orjson.dumps(body) if body is not None else None
    async with http.request(method, url, data=data, headers={**HEADERS, **headers}) as resp:
        return resp.status, CIMultiDict(resp.headers), await resp.read()


async def test_pooled_usage_shows_room_and_the_next_turn_goes_to_the_other_account(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    """Two accounts, one exhausted: wham/usage shows room, Codex's next turn is served by the other."""
    simulator.state.set_quota(A, 1, None)
    async with codex_client(simulator, tmp_path, accounts(), api_keys=[KEY]) as (gw, http):
        status, _, _ = await call(http, "POST", gw.base_url + "/backend-api/codex/responses", turn())
        assert status == 200  # A served it and is now spent (its budget was one turn)
        assert simulator.state.requests[-1]["headers"]["chatgpt-account-id"] == A
        status, _, body = await call(http, "GET", gw.base_url + "/backend-api/wham/usage")
        usage = orjson.loads(body)
        assert status == 200
        assert usage["rate_limit"]["allowed"] is True and usage["rate_limit"]["limit_reached"] is False
        primary = usage["rate_limit"]["primary_window"]
        assert primary["used_percent"] == 50  # A at 100 %, B at 0 %: half the pool's capacity
        assert primary["limit_window_seconds"] == 18000
        assert 0 < primary["reset_at"] - time.time() <= 18000
        assert usage["plan_type"] == "pro"
        assert A not in body.decode() and B not in body.decode()
        status, headers, _ = await call(
            http, "POST", gw.base_url + "/backend-api/codex/responses", turn("again")
        )
        assert status == 200
        assert simulator.state.requests[-1]["headers"]["chatgpt-account-id"] == B
        assert headers["x-codex-primary-used-percent"] == "50"  # as the turn began: A cooling, B unused


async def test_a_key_without_see_quota_sees_no_account(simulator: RunningSimulator, tmp_path: Path) -> None:
    from gptgate.keys import ops
    from gptgate.keys.model import KeyLimits
    from tests.accounts.served import SECRET, open_test_store

    url = f"sqlite:///{tmp_path / 'gptgate.db'}"
    store = open_test_store(url)
    blind = ops.create(store, "blind", KeyLimits())[1]
    seeing = ops.create(store, "seeing", KeyLimits(see_quota=True))[1]
    store.close()
    simulator.state.set_quota(A, 1, None)
    settings: dict[str, Any] = {"database_url": url, "secret_key": SECRET, "account_store": True}
    async with codex_client(simulator, tmp_path, accounts(), **settings) as (gw, http):
        await gw.gateway.keys.reload()
        auth = {"authorization": f"Bearer {seeing}"}
        assert (await call(http, "POST", gw.base_url + "/backend-api/codex/responses", turn(), **auth))[
            0
        ] == 200
        _, _, body = await call(http, "GET", gw.base_url + "/backend-api/wham/usage", **auth)
        assert orjson.loads(body)["rate_limit"]["primary_window"]["used_percent"] == 50
        auth = {"authorization": f"Bearer {blind}"}
        status, _, body = await call(http, "GET", gw.base_url + "/backend-api/wham/usage", **auth)
        now = int(time.time())
        usage = orjson.loads(body)
        assert status == 200
        primary, secondary = (usage["rate_limit"][w] for w in ("primary_window", "secondary_window"))
        assert (primary["used_percent"], secondary["used_percent"]) == (0, 0)
        assert (
            primary["reset_after_seconds"] in (17999, 18000) and abs(primary["reset_at"] - now - 18000) <= 1
        )
        assert usage["plan_type"] == "pro" and usage["rate_limit"]["allowed"] is True
        for secret in (A, B, "@", "acct-"):
            assert secret not in body.decode()
        status, headers, _ = await call(
            http, "POST", gw.base_url + "/backend-api/codex/responses", turn("x"), **auth
        )
        assert status == 200 and headers["x-codex-primary-used-percent"] == "0"


async def test_accounts_check_echoes_the_client_and_names_no_pool_account(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    async with codex_client(simulator, tmp_path, accounts(), api_keys=[KEY]) as (gw, http):
        status, _, body = await call(http, "GET", gw.base_url + "/backend-api/wham/accounts/check")
        assert status == 200
        account = "11111111-2222-3333-4444-555555555555"
        assert orjson.loads(body) == {
            "accounts": [
                {
                    "id": account,
                    "name": "gptgate",
                    "profile_picture_url": None,
                    "structure": "personal",
                    "plan_type": "pro",
                    "is_deactivated": False,
                    "is_fedramp_compliant_workspace": False,
                    "can_access_with_session": True,
                    "sso_connection_name": None,
                    "workspace_backend_origin": gw.base_url,
                    "account_routing_override": "NO_CONSTRAINT",
                }
            ],
            "account_ordering": [account],
            "default_account_id": account,
        }
        status, _, body = await call(
            http, "GET", gw.base_url + "/backend-api/wham/usage", authorization="Bearer wrong"
        )
        assert status == 401 and "error" in orjson.loads(body)


async def test_compaction_stays_with_the_account_that_made_it(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    history = turn("a long thread")["input"]
    async with codex_client(simulator, tmp_path, accounts(), api_keys=[KEY]) as (gw, http):
        for path in ("/backend-api/codex/responses/compact", "/v1/responses/compact"):
            body = {"model": "gpt-5.5", "input": history, "instructions": "", "tools": []}
            status, headers, raw = await call(http, "POST", gw.base_url + path, body)
            assert status == 200, raw
            output = orjson.loads(raw)["output"]
            assert [i["type"] for i in output] == ["message", "compaction"]
            made_by = simulator.state.requests[-1]["headers"]["chatgpt-account-id"]
            sent = simulator.state.requests[-1]["body"]
            assert sent == {**body}  # forwarded as sent
            assert "x-codex-turn-state" in headers
            # the thread's next turns carry the compaction: every one reaches its account
            for n in range(3):
                status, _, raw = await call(
                    http,
                    "POST",
                    gw.base_url + "/backend-api/codex/responses",
                    {**turn(), "input": [*output, *turn(f"next {n}")["input"]]},
                )
                assert status == 200, raw
                assert simulator.state.requests[-1]["headers"]["chatgpt-account-id"] == made_by
            bound = await gw.gateway.pool.state.sticky_get(THREAD)
            assert bound == gw.gateway.pool.accounts[[A, B].index(made_by)].id


async def test_search_is_served_on_the_thread_account(simulator: RunningSimulator, tmp_path: Path) -> None:
    body = {
        "id": "search-session",
        "model": "gpt-5.5",
        "input": turn("find this")["input"],
        "commands": {"search_query": [{"q": "OpenAI news", "recency": 7}]},
        "max_output_tokens": 2500,
    }
    async with codex_client(simulator, tmp_path, accounts(), api_keys=[KEY]) as (gw, http):
        status, _, raw = await call(http, "POST", gw.base_url + "/backend-api/codex/alpha/search", body)
        assert status == 200, raw
        answer = orjson.loads(raw)
        assert answer["output"].startswith("Simulated search results for OpenAI news")
        assert answer["encrypted_output"].startswith("gAAAAA")
        upstream = simulator.state.requests[-1]
        assert upstream["path"] == "/backend-api/codex/alpha/search" and upstream["body"] == body
        assert upstream["headers"]["authorization"] != f"Bearer {KEY}"


async def test_models_list_in_codex_shape_with_aliases(simulator: RunningSimulator, tmp_path: Path) -> None:
    async with codex_client(simulator, tmp_path, accounts(), api_keys=[KEY]) as (gw, http):
        url = gw.base_url + "/backend-api/codex/models?client_version=0.169.0"
        status, _, raw = await call(http, "GET", url)
        assert (status, orjson.loads(raw)) == (404, {"detail": "Not Found"})  # nothing reported yet
        await fetch_models(gw.gateway)
        status, headers, raw = await call(http, "GET", url)
        assert status == 200
        models = {m["slug"]: m for m in orjson.loads(raw)["models"]}
        assert {"gpt-5.5", "gpt-5.3-codex", "gpt-6.1-sol"} <= set(models)
        high = models["gpt-5-codex-high"]
        assert high["visibility"] == "hide" and high["default_reasoning_level"] == "high"
        assert high["base_instructions"] == models["gpt-5.3-codex"]["base_instructions"]
        status, _, _ = await call(http, "GET", url, **{"if-none-match": headers["ETag"]})
        assert status == 304


async def test_unserved_paths_answer_as_codex_tolerates(simulator: RunningSimulator, tmp_path: Path) -> None:
    async with codex_client(simulator, tmp_path, accounts(), api_keys=[KEY]) as (gw, http):
        root = gw.base_url + "/backend-api"
        status, _, raw = await call(http, "GET", root + "/ps/plugins/installed?limit=200")
        assert (status, orjson.loads(raw)) == (
            200,
            {"plugins": [], "pagination": {"limit": 200, "next_page_token": None}},
        )
        status, _, raw = await call(http, "POST", root + "/codex/analytics-events/events", {"events": [1]})
        assert (status, orjson.loads(raw)) == (200, {})
        for method, path in (
            ("GET", "/wham/settings/user"),
            ("GET", "/ps/plugins/suggested/codex?scope=GLOBAL"),
            ("POST", "/ps/mcp"),
            ("GET", "/nothing/here"),
        ):
            status, _, raw = await call(http, method, root + path, {} if method == "POST" else None)
            assert (status, orjson.loads(raw)) == (404, {"detail": "Not Found"}), path


async def test_a_spent_pool_is_codex_usage_limit(simulator: RunningSimulator, tmp_path: Path) -> None:
    simulator.state.set_quota(A, 0, None)
    simulator.state.set_quota(B, 0, None)
    async with codex_client(simulator, tmp_path, accounts(), api_keys=[KEY]) as (gw, http):
        status, headers, raw = await call(http, "POST", gw.base_url + "/backend-api/codex/responses", turn())
        error = orjson.loads(raw)["error"]
        assert status == 429 and error["type"] == "usage_limit_reached"
        assert error["resets_in_seconds"] == int(headers["Retry-After"])
        assert abs(error["resets_at"] - time.time() - error["resets_in_seconds"]) <= 2
        _, _, raw = await call(http, "GET", gw.base_url + "/backend-api/wham/usage")
        usage = orjson.loads(raw)["rate_limit"]
        assert usage["limit_reached"] is True and usage["primary_window"]["used_percent"] == 100


async def test_chatgpt_account_id_does_not_confuse_bring_your_own_token(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    """A client key with Codex's chatgpt-account-id beside it is served from the pool; a client's
    own ChatGPT token with its account id is served from that account, as before, and its
    wham/usage shows that account's windows, not the pool's."""
    own = make_access_token("acct-own", plan="plus")
    simulator.state.set_quota("acct-own", 2, None)  # its one turn spends half its 5-hour window
    async with codex_client(simulator, tmp_path, accounts(), api_keys=[KEY], byo_tokens=True) as (gw, http):
        status, _, _ = await call(http, "POST", gw.base_url + "/backend-api/codex/responses", turn())
        upstream = simulator.state.requests[-1]["headers"]
        assert status == 200 and upstream["chatgpt-account-id"] in (A, B)
        assert upstream["authorization"] != f"Bearer {KEY}"
        status, _, _ = await call(
            http,
            "POST",
            gw.base_url + "/backend-api/codex/responses",
            turn("mine"),
            authorization=f"Bearer {own}",
            **{"chatgpt-account-id": "acct-own"},
        )
        upstream = simulator.state.requests[-1]["headers"]
        assert status == 200 and upstream["chatgpt-account-id"] == "acct-own"
        assert upstream["authorization"] == f"Bearer {own}"
        mine = {"authorization": f"Bearer {own}", "chatgpt-account-id": "acct-own"}
        _, _, raw = await call(http, "GET", gw.base_url + "/backend-api/wham/usage", **mine)
        usage = orjson.loads(raw)  # its own account's windows, as its turn reported them
        assert (usage["plan_type"], usage["rate_limit"]["primary_window"]["used_percent"]) == ("plus", 50)


async def test_compaction_v2_in_a_turn_stays_with_its_account(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    """Codex 0.169 compacts inline (``remote_compaction_v2``): its turn's input ends with
    ``compaction_trigger`` and the stream's one ``compaction`` item goes back to that account."""
    trigger = {
        **turn("a long thread"),
        "input": [*turn("a long thread")["input"], {"type": "compaction_trigger"}],
    }
    async with codex_client(simulator, tmp_path, accounts(), api_keys=[KEY]) as (gw, http):
        url = gw.base_url + "/backend-api/codex/responses"
        status, _, raw = await call(
            http, "POST", url, trigger, **{"x-codex-beta-features": "remote_compaction_v2"}
        )
        assert status == 200
        done = [orjson.loads(d) for d in sse_data(raw)]
        items = [e["item"] for e in done if e["type"] == "response.output_item.done"]
        assert [i["type"] for i in items] == ["compaction"]
        made_by = simulator.state.requests[-1]["headers"]["chatgpt-account-id"]
        for n in range(3):
            status, _, raw = await call(
                http, "POST", url, {**turn(), "input": [*items, *turn(f"n{n}")["input"]]}
            )
            assert status == 200, raw
            assert simulator.state.requests[-1]["headers"]["chatgpt-account-id"] == made_by
