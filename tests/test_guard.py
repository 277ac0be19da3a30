"""The guard around every route (no middleware): auth before anything, 404/405 in the client's
envelope through the catch-all route, the pinned upstream and the door decided per route."""

from __future__ import annotations

import aiohttp
import orjson
import pytest

from gptgate.app import create_app
from gptgate.gateway import Gateway
from gptgate.guard import needs_key
from gptgate.settings import Settings
from gptgate.simulator.server import RunningSimulator
from tests.support import start_gateway
from tests.support import test_account as one_account


async def request(
    base: str, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, base + path, data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.read()


def test_no_middleware_runs_for_any_request() -> None:
    app = create_app(Gateway(Settings(fetch_upstream_models=False, account_store=False), [one_account()]))
    assert tuple(app.middlewares) == ()


@pytest.mark.parametrize(
    ("path", "needed"),
    [
        ("/v1/chat/completions", True),
        ("/v1/{tail:.*}", True),
        ("/health", False),
        ("/readyz", False),
        ("/chat", False),
        ("/chat/api/session", True),
        ("/chat/static/{name:.+}", False),
        ("/admin/api/keys", False),
        ("/files/{token}", False),
        ("/backend-api/ps/mcp", False),
    ],
)
def test_which_routes_need_a_client_key(path: str, needed: bool) -> None:
    assert needs_key(path) is needed


async def test_unknown_paths_and_methods_answer_in_the_envelope(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url, api_keys=["sk-right"])
    key = {"authorization": "Bearer sk-right"}
    try:
        # auth first: an unknown path without a key is the 401 a known one would be
        status, body = await request(served.base_url, "POST", "/v1/nothing-here")
        assert (status, orjson.loads(body)) == (
            401,
            {
                "error": {
                    "message": "Missing API key: send it as 'Authorization: Bearer <key>'.",
                    "type": "authentication_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        )
        status, body = await request(served.base_url, "POST", "/v1/nothing-here", key)
        assert (status, orjson.loads(body)) == (
            404,
            {
                "error": {
                    "message": "Unknown path. The API lives under /v1 (see GET /v1/models).",
                    "type": "not_found_error",
                    "param": None,
                    "code": "not_found",
                }
            },
        )
        status, body = await request(served.base_url, "DELETE", "/v1/chat/completions", key)
        assert (status, orjson.loads(body)) == (
            405,
            {
                "error": {
                    "message": "Method not allowed: Method Not Allowed.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "method_not_allowed",
                }
            },
        )
        # the admin console's own paths need no client key: its unknown paths are plain 404s
        status, body = await request(served.base_url, "GET", "/admin/api/no-such-thing")
        assert (status, orjson.loads(body)["error"]["code"]) == (404, "not_found")
        # the catch-all takes every method, HEAD included, and never answers 500
        status, _ = await request(served.base_url, "HEAD", "/v2/anything", key)
        assert status == 404
    finally:
        await served.close()


async def test_a_pinned_prefix_pins_its_calls(simulator: RunningSimulator) -> None:
    served = await start_gateway(simulator.base_url)
    try:
        body = orjson.dumps({"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]})
        status, _ = await request(
            served.base_url, "POST", "/codex/v1/chat/completions", {"content-type": "application/json"}, body
        )
        assert status == 200
        status, answer = await request(
            served.base_url,
            "POST",
            "/chatgpt/v1/chat/completions",
            {"content-type": "application/json"},
            body,
        )
        # the web upstream is not configured on this gateway: the pin says so, it is not ignored
        assert (status, orjson.loads(answer)["error"]["code"]) == (404, "upstream_not_configured")
    finally:
        await served.close()
