"""Add an account by signing in: the device-code flow of the Codex CLI, run by the gateway.

``POST /admin/api/oauth/device/start`` asks the auth server (the origin of ``oauth_token_url``)
for a user code at ``/api/accounts/deviceauth/usercode`` and answers ``{"id", "user_code",
"verification_uri", "interval", "expires_in"}``; the operator opens the link and enters the
code. Meanwhile a background task of this worker polls ``/api/accounts/deviceauth/token`` every
``interval`` seconds; once approved it receives an authorization code with its PKCE pair,
exchanges it at ``oauth_token_url`` (``grant_type=authorization_code``, redirect URI
``{issuer}/deviceauth/callback``) and stores the account. ``GET /admin/api/oauth/device/{id}``
tells ``pending``, ``added``, ``expired`` or ``failed``; the flow's status is also kept in the
shared state, so the console may ask any worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from aiohttp import web

from gptgate.accounts.ops import Entry
from gptgate.admin import accounts_api
from gptgate.admin.errors import AdminError, json_reply, not_found
from gptgate.gateway import Gateway
from gptgate.http import gateway_of
from gptgate.settings import Settings

log = logging.getLogger("gptgate.admin")
STATE_PREFIX = "admin:device:"
DEFAULT_EXPIRES_IN = 900  # the Codex CLI waits 15 minutes


@dataclass
class Flow:
    id: str
    user_code: str
    verification_uri: str
    interval: int
    expires_at: float
    status: str = "pending"
    message: str | None = None
    account: dict[str, Any] | None = None
    device_auth_id: str = field(default="", repr=False)

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        del out["device_auth_id"]
        return out


FLOWS = web.AppKey("admin_device_flows", dict[str, Flow])
TASKS = web.AppKey("admin_device_tasks", set[asyncio.Task[None]])


def issuer(settings: Settings) -> str:
    parts = urlsplit(settings.oauth_token_url)
    return f"{parts.scheme}://{parts.netloc}"


async def _post_json(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post(url, data=orjson.dumps(body), headers={"Content-Type": "application/json"}) as resp:
        raw = await resp.read()
        try:
            return resp.status, orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return resp.status, None


async def start(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    accounts_api.require_store(gateway)  # refuse early when there is nowhere to keep the account
    settings = gateway.settings
    base = issuer(settings)
    timeout = aiohttp.ClientTimeout(total=settings.token_timeout)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            status, body = await _post_json(
                http, base + "/api/accounts/deviceauth/usercode", {"client_id": settings.oauth_client_id}
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise AdminError(
            f"The auth server cannot be reached: {type(exc).__name__}.", 502, "auth_unreachable"
        ) from exc
    if status == 404:
        raise AdminError(
            "Device-code sign-in is not enabled on this auth server.", 502, "device_auth_disabled"
        )
    if status != 200 or not isinstance(body, dict) or "device_auth_id" not in body:
        raise AdminError(f"The auth server refused a user code (HTTP {status}).", 502, "auth_refused")
    try:
        interval = max(1, int(str(body.get("interval") or "5").strip()))
    except ValueError:
        interval = 5
    flow = Flow(
        id="dev_" + secrets.token_hex(8),
        user_code=str(body.get("user_code") or body.get("usercode") or ""),
        verification_uri=base + "/codex/device",
        interval=interval,
        expires_at=time.time() + DEFAULT_EXPIRES_IN,
        device_auth_id=str(body["device_auth_id"]),
    )
    request.app[FLOWS][flow.id] = flow
    await _share(gateway, flow)
    task = asyncio.ensure_future(_complete(gateway, flow))
    request.app[TASKS].add(task)
    task.add_done_callback(request.app[TASKS].discard)
    view = flow.public()
    view["expires_in"] = DEFAULT_EXPIRES_IN
    return json_reply(view, 201)


async def _share(gateway: Gateway, flow: Flow) -> None:
    ttl = max(60.0, flow.expires_at - time.time() + 600)
    await gateway.state.sticky_set(STATE_PREFIX + flow.id, orjson.dumps(flow.public()).decode(), ttl)


async def status(request: web.Request) -> web.Response:
    flow_id = request.match_info["id"]
    flow: Flow | None = request.app[FLOWS].get(flow_id)
    if flow is not None:
        return json_reply(flow.public())
    shared = await gateway_of(request).state.sticky_get(STATE_PREFIX + flow_id)
    if shared is None:
        raise not_found(f"No sign-in {flow_id!r}.")
    return json_reply(orjson.loads(shared))


async def _complete(gateway: Gateway, flow: Flow) -> None:
    """Poll until approved or expired, then exchange the code and store the account."""
    settings = gateway.settings
    base = issuer(settings)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.token_timeout)) as http:
            code = await _poll(http, base, flow)
            if code is not None:
                tokens = await _exchange(http, settings, base, code)
                await _store(gateway, flow, tokens)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        flow.status, flow.message = "failed", str(exc) if isinstance(exc, ValueError) else type(exc).__name__
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("device sign-in failed")
        flow.status, flow.message = "failed", "see the gateway log"
    with contextlib.suppress(Exception):
        await _share(gateway, flow)


async def _poll(http: aiohttp.ClientSession, base: str, flow: Flow) -> dict[str, Any] | None:
    body = {"device_auth_id": flow.device_auth_id, "user_code": flow.user_code}
    while time.time() < flow.expires_at:
        await asyncio.sleep(flow.interval)
        status, answer = await _post_json(http, base + "/api/accounts/deviceauth/token", body)
        if status == 200 and isinstance(answer, dict) and answer.get("authorization_code"):
            return answer
        if status not in (403, 404):
            raise ValueError(f"the auth server answered HTTP {status} while waiting for approval")
    flow.status, flow.message = "expired", "the code expired before it was approved"
    return None


async def _exchange(
    http: aiohttp.ClientSession, settings: Settings, base: str, code: dict[str, Any]
) -> dict[str, Any]:
    form = {
        "grant_type": "authorization_code",
        "code": str(code["authorization_code"]),
        "redirect_uri": base + "/deviceauth/callback",
        "client_id": settings.oauth_client_id,
        "code_verifier": str(code.get("code_verifier") or ""),
    }
    async with http.post(settings.oauth_token_url, data=form) as resp:
        raw = await resp.read()
        if resp.status != 200:
            raise ValueError(f"the code exchange was refused (HTTP {resp.status})")
    tokens = orjson.loads(raw)
    if not isinstance(tokens, dict) or not tokens.get("access_token"):
        raise ValueError("the code exchange answered no access token")
    return tokens


async def _store(gateway: Gateway, flow: Flow, tokens: dict[str, Any]) -> None:
    entry = Entry(
        access_token=tokens.get("access_token"),
        refresh_token=tokens.get("refresh_token"),
        id_token=tokens.get("id_token"),
    )
    store = accounts_api.require_store(gateway)
    report = await asyncio.to_thread(accounts_api.add_entries, store, [("sign-in", entry)])
    if report["failed"]:
        flow.status, flow.message = "failed", report["failed"][0]
        return
    if report["skipped"]:
        flow.status, flow.message = "added", "this account was already stored"
        return
    record = report["added"][0]
    await gateway.state.publish("accounts", f"added {record.id}")
    flow.status = "added"
    flow.account = accounts_api.account_view(record, None, time.time())


def install(app: web.Application) -> None:
    app[FLOWS] = {}
    app[TASKS] = set()

    async def cancel(app: web.Application) -> None:
        tasks: set[asyncio.Task[None]] = app[TASKS]
        for task in tuple(tasks):
            task.cancel()

    app.on_cleanup.insert(0, cancel)


ROUTES = [
    ("POST", "/oauth/device/start", start),
    ("GET", "/oauth/device/{id}", status),
]
