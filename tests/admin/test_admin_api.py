"""The admin API against a running ``gptgate serve``: auth, lockout, CSRF, accounts, device sign-in,
settings; the simulator stands in for ChatGPT and its auth server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from tests.admin.conftest import ADMIN_PASSWORD, ADMIN_TOKEN, CLIENT_KEY, Served, serve

from gptgate.simulator.server import RunningSimulator

CSRF = {"X-Requested-With": "gptgate"}
BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, aiohttp.ClientResponse]:
    data = orjson.dumps(body) if body is not None else None
    async with http.request(method, url, data=data, headers=headers) as resp:
        raw = await resp.read()
        try:
            return resp.status, orjson.loads(raw) if raw else None, resp
        except orjson.JSONDecodeError:
            return resp.status, raw, resp


async def signed_in(base: str) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    status, body, _ = await call(http, "POST", base + "/admin/api/login", {"password": ADMIN_PASSWORD})
    assert (status, body["signed_in"]) == (200, True)
    return http


async def seed(simulator: RunningSimulator, count: int) -> list[dict[str, str]]:
    async with aiohttp.ClientSession() as http:
        status, body, _ = await call(http, "POST", simulator.base_url + "/_sim/accounts", {"count": count})
    assert status == 200
    return list(body["accounts"])


async def test_sign_in_session_cookie_and_sign_out(gateway: Served) -> None:
    base = gateway.base_url + "/admin/api"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        status, body, _ = await call(http, "GET", base + "/session")
        assert (status, body["signed_in"]) == (200, False)
        status, body, _ = await call(http, "GET", base + "/accounts")
        assert status == 401
        assert body["error"]["code"] == "admin_auth_required"
        status, body, resp = await call(http, "POST", base + "/login", {"password": ADMIN_PASSWORD})
        assert status == 200
        cookie = resp.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
        assert ADMIN_PASSWORD not in cookie
        status, body, _ = await call(http, "GET", base + "/session")
        assert body["signed_in"] is True and body["expires_at"] > 0
        assert (await call(http, "GET", base + "/accounts"))[0] == 200
        # a state-changing call with the cookie needs the console's header
        status, body, _ = await call(http, "POST", base + "/accounts/clear", {"confirm": "remove all"})
        assert (status, body["error"]["code"]) == (403, "csrf_header_missing")
        assert (await call(http, "POST", base + "/accounts/clear", {"confirm": "remove all"}, CSRF))[0] == 200
        await call(http, "POST", base + "/logout", headers=CSRF)
        assert (await call(http, "GET", base + "/accounts"))[0] == 401


async def test_lockout_after_repeated_failures(gateway: Served) -> None:
    base = gateway.base_url + "/admin/api"
    async with aiohttp.ClientSession() as http:
        for _ in range(3):  # admin_lockout=3
            status, body, _ = await call(http, "POST", base + "/login", {"password": "wrong"})
            assert (status, body["error"]["code"]) == (401, "admin_auth_required")
        status, body, resp = await call(http, "POST", base + "/login", {"password": ADMIN_PASSWORD})
        assert (status, body["error"]["code"]) == (429, "admin_locked_out")
        assert int(resp.headers["Retry-After"]) > 0
    assert not any(ADMIN_PASSWORD in line or "wrong" in line for line in gateway.log)


async def test_keys_never_cross(gateway: Served) -> None:
    """A client key does not open the admin API; the admin token does not serve model calls."""
    async with aiohttp.ClientSession() as http:
        client = {"Authorization": f"Bearer {CLIENT_KEY}"}
        status, body, _ = await call(http, "GET", gateway.base_url + "/admin/api/accounts", headers=client)
        assert status == 401
        assert "client API keys do not open the admin API" in body["error"]["message"]
        status, body, _ = await call(http, "GET", gateway.base_url + "/admin/api/settings", headers=BEARER)
        assert status == 200
        chat = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}
        status, body, _ = await call(http, "POST", gateway.base_url + "/v1/chat/completions", chat, BEARER)
        assert status == 401


async def test_settings_are_masked(gateway: Served) -> None:
    async with aiohttp.ClientSession() as http:
        _status, body, _ = await call(http, "GET", gateway.base_url + "/admin/api/settings", headers=BEARER)
    rows = {row["name"]: row for row in body["settings"]}
    assert rows["admin_password"]["value"] == "set" and rows["admin_password"]["secret"] is True
    assert rows["admin_token"]["value"] == "set"
    assert rows["secret_key"]["value"] == "set"
    assert rows["api_keys"]["value"] == "1 set"
    assert rows["access_token"]["value"] == "not set"
    assert rows["admin_session_hours"]["value"] == 12.0
    text = orjson.dumps(body).decode()
    for secret in (ADMIN_PASSWORD, ADMIN_TOKEN, CLIENT_KEY, "admin-tests-secret-key"):
        assert secret not in text


async def test_accounts_lifecycle(gateway: Served, simulator: RunningSimulator) -> None:
    one, two, three = await seed(simulator, 3)
    base = gateway.base_url + "/admin/api"
    async with aiohttp.ClientSession() as http:
        # bulk upload: a token per line, and a CLIProxyAPI auth file
        cliproxy = {"type": "codex", "email": three["email"], "access_token": three["access_token"]}
        cliproxy |= {"refresh_token": three["refresh_token"], "id_token": three["id_token"]}
        body = {
            "text": f"{one['access_token']}\n{two['access_token']}\n",
            "files": [{"name": "codex-x.json", "content": orjson.dumps(cliproxy).decode()}],
        }
        status, report, _ = await call(http, "POST", base + "/accounts/import", body, BEARER)
        assert status == 201
        assert (len(report["added"]), report["skipped"], report["failed"]) == (3, 0, [])
        status, report, _ = await call(http, "POST", base + "/accounts/import", body, BEARER)
        assert (status, len(report["added"]), report["skipped"]) == (200, 0, 3)

        status, listed, _ = await call(http, "GET", base + "/accounts", headers=BEARER)
        accounts = {a["email"]: a for a in listed["accounts"]}
        first = accounts[one["email"]]
        assert first["plan"] == "plus" and first["status"] == "active" and first["health"] == "ok"
        assert first["tokens"] == {
            "access_token": True,
            "refresh_token": False,
            "id_token": False,
            "session_token": False,
        }
        assert one["access_token"] not in orjson.dumps(listed).decode()

        ident = first["id"]
        status, tested, _ = await call(http, "POST", f"{base}/accounts/{ident}/test", headers=BEARER)
        assert (status, tested["ok"]) == (200, True)
        assert tested["message"].startswith("ok, plan plus; 5h 0% used, resets in ")
        assert tested["account"]["windows"]["primary"]["used_percent"] == 0.0
        status, refreshed, _ = await call(http, "POST", f"{base}/accounts/{ident}/refresh", headers=BEARER)
        assert refreshed == {"ok": False, "message": "no refresh or session token to refresh with"}
        third = accounts[three["email"]]["id"]
        status, refreshed, _ = await call(http, "POST", f"{base}/accounts/{third}/refresh", headers=BEARER)
        assert (status, refreshed["ok"]) == (200, True)
        assert refreshed["message"].startswith("refreshed, expires in ")

        status, done, _ = await call(
            http, "POST", f"{base}/accounts/{ident}/disable", {"reason": "maintenance"}, BEARER
        )
        assert (done["account"]["status"], done["account"]["status_reason"]) == ("disabled", "maintenance")
        assert done["account"]["health"] == "down"
        status, done, _ = await call(http, "POST", f"{base}/accounts/{ident}/enable", headers=BEARER)
        assert done["account"]["status"] == "active"

        status, exported, resp = await call(
            http, "GET", base + "/accounts/export?format=sub2api", headers=BEARER
        )
        assert (status, exported["error"]["code"]) == (400, "confirmation_required")
        url = base + "/accounts/export?format=cliproxyapi&confirm=true"
        status, exported, resp = await call(http, "GET", url, headers=BEARER)
        assert status == 200 and "attachment" in resp.headers["Content-Disposition"]
        assert {e["email"] for e in exported} == {one["email"], two["email"], three["email"]}
        assert all(e["type"] == "codex" for e in exported)

        status, gone, _ = await call(http, "DELETE", f"{base}/accounts/{ident}", headers=BEARER)
        assert gone == {"removed": ident}
        status, missing, _ = await call(http, "POST", f"{base}/accounts/{ident}/enable", headers=BEARER)
        assert (status, missing["error"]["code"]) == (404, "not_found")
        status, cleared, _ = await call(http, "POST", base + "/accounts/clear", {}, BEARER)
        assert (status, cleared["error"]["code"]) == (400, "confirmation_required")
        status, cleared, _ = await call(
            http, "POST", base + "/accounts/clear", {"confirm": "remove all"}, BEARER
        )
        assert cleared == {"removed": 2}


async def test_add_one_account_and_refuse_a_duplicate(gateway: Served, simulator: RunningSimulator) -> None:
    (one,) = await seed(simulator, 1)
    url = gateway.base_url + "/admin/api/accounts"
    async with aiohttp.ClientSession() as http:
        body = {"refresh_token": one["refresh_token"], "access_token": one["access_token"], "name": "seat-a"}
        status, added, _ = await call(http, "POST", url, body, BEARER)
        assert status == 201 and added["added"][0]["name"] == "seat-a"
        status, again, _ = await call(http, "POST", url, body, BEARER)
        assert (status, again["error"]["code"]) == (409, "duplicate_account")
        status, bad, _ = await call(http, "POST", url, {"token": "x"}, BEARER)
        assert (status, bad["error"]["message"]) == (400, "Unknown fields: token.")


async def test_device_code_sign_in_adds_an_account(gateway: Served, simulator: RunningSimulator) -> None:
    base = gateway.base_url + "/admin/api"
    async with aiohttp.ClientSession() as http:
        await call(http, "PUT", simulator.base_url + "/_sim/device", {"interval": 1})
        status, flow, _ = await call(http, "POST", base + "/oauth/device/start", headers=BEARER)
        assert status == 201
        assert flow["verification_uri"] == simulator.base_url + "/codex/device"
        assert flow["status"] == "pending" and flow["expires_in"] == 900
        status, state, _ = await call(http, "GET", f"{base}/oauth/device/{flow['id']}", headers=BEARER)
        assert state["status"] == "pending"
        approval = {"user_code": flow["user_code"], "email": "device@example.com"}
        status, approved, _ = await call(http, "POST", simulator.base_url + "/_sim/device/approve", approval)
        assert status == 200
        for _ in range(50):
            status, state, _ = await call(http, "GET", f"{base}/oauth/device/{flow['id']}", headers=BEARER)
            if state["status"] != "pending":
                break
            await asyncio.sleep(0.2)
        assert state["status"] == "added", state
        assert state["account"]["email"] == "device@example.com"
        assert state["account"]["account_id"] == approved["account_id"]
        assert state["account"]["tokens"]["refresh_token"] is True
        status, listed, _ = await call(http, "GET", base + "/accounts", headers=BEARER)
        assert [a["email"] for a in listed["accounts"]] == ["device@example.com"]


async def test_console_and_docs_are_served(gateway: Served) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(gateway.base_url + "/admin") as resp:
            page = await resp.text()
            assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
            assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
            assert '<script type="module" src="/admin/static/console.js">' in page
        async with http.get(gateway.base_url + "/admin/static/console.js") as resp:
            assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
            etag = resp.headers["ETag"]
            assert resp.headers["Cache-Control"] == "no-cache"
        async with http.get(
            gateway.base_url + "/admin/static/console.js", headers={"If-None-Match": etag}
        ) as resp:
            assert resp.status == 304
        async with http.get(gateway.base_url + "/admin/static/../app.py") as resp:
            assert resp.status == 404
        _status, doc, _ = await call(http, "GET", gateway.base_url + "/admin/api/openapi.json")
        assert doc["openapi"] == "3.1.0"
        assert "post" in doc["paths"]["/admin/api/accounts/import"]
        async with http.get(gateway.base_url + "/admin/docs") as resp:
            assert "/admin/api/accounts/export" in await resp.text()


async def test_serve_prints_a_one_time_password_every_worker_accepts(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    served = serve(simulator.base_url, tmp_path, workers="2")
    try:
        for _ in range(100):
            line = next((x for x in served.log if x.startswith("console: ")), None)
            if line is not None:
                break
            await asyncio.sleep(0.05)
        assert line is not None
        m = re.fullmatch(
            rf"console: {re.escape(served.base_url)}/admin — sign in with password (\S+) "
            r"\(generated for this run; set admin_password to choose one\)\n",
            line,
        )
        assert m is not None, line
        for _ in range(6):  # fresh connections: both workers answer some
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                login = {"password": m.group(1)}
                status, body, _ = await call(http, "POST", served.base_url + "/admin/api/login", login)
                assert status == 200
                for _ in range(3):
                    status, body, _ = await call(http, "GET", served.base_url + "/admin/api/session")
                    assert body["signed_in"] is True
    finally:
        served.stop()
