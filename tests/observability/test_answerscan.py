"""The answer scan finds a secret a gateway answers with, wherever it is (headers, a body, a
streamed body split between writes, a WebSocket frame, a ``gptgate serve`` child), names it by
route and kind only, and lets through exactly the answers listed in ``EXEMPT``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web

from gptgate.app import create_app
from gptgate.gateway import Gateway
from gptgate.settings import Settings
from gptgate.simulator.tokens import make_access_token
from tests import support
from tests.observability import answerscan
from tests.observability.answerscan import EXEMPT, Hit, Planted, Registry, scan_answer, scan_frame

JWT = make_access_token("acct-leak-0001", plan="plus")
REFRESH = "rt_" + "R" * 40
KEY = "gg-" + "K1b2C3d4E5" * 4
SESSION = "opaque-session-token-0123456789abcdef"  # matches no pattern: found only as planted
JSON = [("Content-Type", "application/json")]


def body(document: object) -> bytes:
    return orjson.dumps(document)


def test_a_token_in_a_body_is_a_hit_named_by_route_and_kind_never_by_the_secret() -> None:
    hits = scan_answer("POST", "/v1/responses", 200, JSON, body({"note": JWT, "next": REFRESH}))
    assert hits == [Hit("POST", "/v1/responses", 200, "body", ("jwt", "refresh_token"))]
    assert hits[0].line() == "POST /v1/responses 200 body: jwt, refresh_token"
    assert JWT not in hits[0].to_json() and Hit.from_json(hits[0].to_json()) == hits[0]


def test_a_token_in_a_header_or_a_frame_is_a_hit() -> None:
    headers = [*JSON, ("X-Debug", f"Bearer {JWT}")]
    assert scan_answer("GET", "/v1/models", 200, headers, b"{}") == [
        Hit("GET", "/v1/models", 200, "header", ("jwt", "bearer"))
    ]
    assert scan_frame("GET", "/v1/responses", f'{{"type":"error","key":"{KEY}"}}') == [
        Hit("GET", "/v1/responses", 101, "frame", ("gptgate_key",))
    ]


def test_a_planted_secret_is_found_exactly_even_when_no_pattern_knows_it() -> None:
    planted = [Planted([SESSION])]
    text = body({"output": f"your session is {SESSION}."})
    assert scan_answer("POST", "/v1/chat/completions", 200, JSON, text) == []
    assert scan_answer("POST", "/v1/chat/completions", 200, JSON, text, planted) == [
        Hit("POST", "/v1/chat/completions", 200, "body", ("planted",))
    ]
    assert Planted(["short"]).found_in("a short text") is False  # too short to be matched


def test_clean_answers_and_what_is_no_secret_pass() -> None:
    clean = {
        "object": "list",
        "usage": {"input_tokens": 3, "output_tokens": 5},
        "key": {"id": "key_0123456789", "prefix": "gg-AbC123", "name": "ci"},
        "error": "This API key (gg-AbC123...) was revoked.",
        "description": "Admin token for scripts: 'Authorization: Bearer <token>' on /admin/api.",
    }
    assert scan_answer("GET", "/admin/api/keys", 200, JSON, body(clean)) == []
    docs = b"<code>Authorization: Bearer &lt;admin_token&gt;</code>"
    assert scan_answer("GET", "/admin/docs", 200, [], docs) == []


def test_a_new_key_is_let_through_only_in_its_field_of_its_creation_answer() -> None:
    created = {"key": {"id": "key_0123456789", "prefix": KEY[:9]}, "secret": KEY}
    assert scan_answer("POST", "/admin/api/keys", 201, JSON, body(created)) == []
    assert scan_answer("POST", "/admin/api/keys/{id}/rotate", 200, JSON, body(created)) == []
    assert answerscan.shown_secret("POST", "/admin/api/keys", 201, body(created)) == KEY
    # the same key anywhere else in that answer, in another answer, or in a failed creation
    elsewhere = {**created, "key": {"note": KEY}}
    assert scan_answer("POST", "/admin/api/keys", 201, JSON, body(elsewhere))[0].kinds == ("gptgate_key",)
    assert scan_answer("GET", "/admin/api/keys", 200, JSON, body(created))[0].kinds == (
        "secret_field",
        "gptgate_key",
    )
    assert scan_answer("POST", "/admin/api/keys", 400, JSON, body(created))[0].part == "body"


def test_the_export_body_and_the_admin_cookie_are_let_through_and_nothing_else() -> None:
    export = body([{"name": "a", "access_token": JWT, "refresh_token": REFRESH}])
    assert scan_answer("GET", "/admin/api/accounts/export", 200, JSON, export) == []
    assert scan_answer("GET", "/admin/api/accounts", 200, JSON, export)[0].part == "body"
    leaky_header = [("X-Token", REFRESH)]
    assert scan_answer("GET", "/admin/api/accounts/export", 200, leaky_header, export) == [
        Hit("GET", "/admin/api/accounts/export", 200, "header", ("refresh_token",))
    ]
    cookie = [("Set-Cookie", "gptgate_admin=s3cr3t-session-value; HttpOnly; Path=/admin; SameSite=Strict")]
    assert scan_answer("POST", "/admin/api/login", 200, cookie, b"{}") == []
    assert scan_answer("POST", "/admin/api/login", 401, cookie, b"{}")[0].kinds == ("cookie",)
    other = [("Set-Cookie", "tracker=abc; Path=/")]
    assert scan_answer("POST", "/admin/api/login", 200, other, b"{}")[0].kinds == ("cookie",)


def test_the_fast_pattern_check_agrees_with_secret_kinds() -> None:
    """``pattern_kinds`` skips the patterns whose words are absent: same answer as the product's."""
    from gptgate.observability.redact import PATTERNS, secret_kinds
    from tests.observability.answerscan import _NEEDS, pattern_kinds
    from tests.observability.test_redact import CASES, CLEAN

    assert set(_NEEDS) == {kind for kind, _, _ in PATTERNS}
    texts = [line for case in CASES for line in case] + list(CLEAN)
    texts += [JWT, REFRESH, KEY, f"PASSWORD='{SESSION}'", f"https://u:{SESSION}@h", f"X?Token={SESSION}"]
    for text in texts:
        assert pattern_kinds(text) == secret_kinds(text), text
    assert all(secret_kinds(text) for text in texts[-6:])


def test_every_exemption_says_why_and_each_route_is_listed_once() -> None:
    assert all(len(e.reason) > 40 for e in EXEMPT)
    assert len({(e.method, e.route) for e in EXEMPT}) == len(EXEMPT)


# -- the tap itself, on a real gateway application with routes that leak
#: the gateway's own Server header (the guard and the streaming handlers set it; these test
#: routes are added beside the guarded ones)
BRAND = {"Server": "gptgate"}


def leaky_gateway_app() -> tuple[web.Application, Gateway]:
    gateway = Gateway(
        Settings(fetch_upstream_models=False, account_store=False), [support.test_account("acct-leak-0001")]
    )
    app = create_app(gateway)
    token = gateway.pool.accounts[0].access_token

    async def unary(request: web.Request) -> web.Response:
        return web.json_response({"echo": token}, headers=BRAND)

    async def streamed(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", **BRAND})
        await resp.prepare(request)
        await resp.write(f'data: {{"k": "{KEY[:20]}'.encode())
        await resp.write(f'{KEY[20:]}"}}\n\n'.encode())  # the key split between two writes
        await resp.write_eof()
        return resp

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        ws.headers.update(BRAND)
        await ws.prepare(request)
        await ws.receive()
        await ws.send_json({"type": "error", "refresh": REFRESH})
        await ws.close()
        return ws

    async def header(request: web.Request) -> web.Response:
        return web.json_response({}, headers={"X-Session": SESSION, **BRAND})

    async def library(request: web.Request) -> web.Response:
        return web.json_response({})  # aiohttp's own Server header: its name and version

    app.router.add_get("/health/leak/unary", unary)
    app.router.add_get("/health/leak/streamed", streamed)
    app.router.add_get("/health/leak/socket", socket)
    app.router.add_get("/health/leak/header", header)
    app.router.add_get("/health/leak/library", library)
    return app, gateway


async def test_the_tap_sees_a_gateways_answers_streamed_and_socket_ones_too() -> None:
    app, gateway = leaky_gateway_app()
    assert gateway.pool.accounts[0].session_token is None
    gateway.pool.accounts[0].session_token = SESSION  # planted: no pattern knows it
    runner, base = await support.serve_app(app)
    registry = Registry()
    try:
        with answerscan.recording(registry):
            async with aiohttp.ClientSession() as http:
                for path in ("unary", "streamed", "header", "library"):
                    async with http.get(f"{base}/health/leak/{path}") as resp:
                        await resp.read()
                async with http.ws_connect(f"{base}/health/leak/socket") as ws:
                    await ws.send_str("go")
                    await ws.receive()
    finally:
        await runner.cleanup()
    assert sorted(h.line() for h in registry.hits) == [
        "GET /health/leak/header 200 header: planted",
        "GET /health/leak/library 200 header: server library",
        "GET /health/leak/socket 101 frame: refresh_token",
        "GET /health/leak/streamed 200 body: gptgate_key",
        "GET /health/leak/unary 200 body: jwt, planted",
    ]
    assert registry.answers == 5  # four answers and the socket's handshake


async def test_the_tap_leaves_other_applications_alone() -> None:
    app = web.Application()

    async def token(request: web.Request) -> web.Response:  # like the simulator's OAuth endpoint
        return web.json_response({"access_token": JWT, "refresh_token": REFRESH})

    app.router.add_post("/oauth/token", token)
    runner, base = await support.serve_app(app)
    registry = Registry()
    try:
        with answerscan.recording(registry):
            async with aiohttp.ClientSession() as http, http.post(f"{base}/oauth/token") as resp:
                assert (await resp.json())["refresh_token"] == REFRESH
    finally:
        await runner.cleanup()
    assert (registry.answers, registry.hits) == (0, [])


def test_a_gptgate_serve_child_reports_its_hits_through_the_sitecustomize(tmp_path: Path) -> None:
    """The child is this module's leaky gateway, started as a command line with 'gptgate serve'
    in it (what the sitecustomize looks for); it reports to ``tmp_path``, not to the session."""
    child = textwrap.dedent(
        """
        import asyncio, urllib.request
        from tests.observability.test_answerscan import leaky_gateway_app
        from tests.support import serve_app

        async def main():
            runner, base = await serve_app(leaky_gateway_app()[0])
            await asyncio.to_thread(lambda: urllib.request.urlopen(base + "/health/leak/unary").read())
            await runner.cleanup()

        asyncio.run(main())
        """
    )
    env = {**os.environ, **answerscan.subprocess_env(tmp_path)}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] += os.pathsep + root
    subprocess.run(
        [sys.executable, "-c", child, "gptgate", "serve"], env=env, check=True, timeout=60, cwd=root
    )
    answers, hits = Registry(report_dir=tmp_path).read_children()
    assert (answers, [h.line() for h in hits]) == (1, ["GET /health/leak/unary 200 body: jwt, planted"])


async def test_the_tap_sees_the_answer_to_a_request_the_parser_refused() -> None:
    """Never routed, answered by the production runner's error handler: still a gateway's answer."""
    from tests.fuzz.served import port_of, raw_exchange, start_hardened

    served = await start_hardened("http://127.0.0.1:9")
    registry = Registry()
    try:
        with answerscan.recording(registry):
            head = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"A" * 9000 + b"\r\n\r\n"
            answer = await raw_exchange(port_of(served), head)
    finally:
        await served.close()
    assert answer.startswith(b"HTTP/1.0 400 ")
    assert (registry.answers, registry.hits) == (1, [])
