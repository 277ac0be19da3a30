"""The ``/_sim/`` control API, for tests and demos that drive a simulator over HTTP.

==========================================  ===============================================
``GET    /_sim/health``                     ``ok``
``POST   /_sim/faults``                     ``{"faults":[{"kind":…, …params}], "account_id"?}``
                                            queue faults (FIFO, one per later turn)
``GET    /_sim/faults``                     the queue
``DELETE /_sim/faults``                     empty the queue
``GET    /_sim/requests``                   recorded requests (last 200), oldest first
``DELETE /_sim/requests``                   forget them
``POST   /_sim/refresh-tokens``             ``{"refresh_token","account_id","plan"?,"email"?}``
``POST   /_sim/accounts/{account_id}/reset``  zero that account's quota windows
``POST   /_sim/reset``                      forget all state (config kept; configured
                                            accounts are seeded again: same ids, refresh
                                            and session tokens)
==========================================  ===============================================

Accounts, tokens, auth faults, statistics and the clock: ``control_accounts.py``.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from gptgate.simulator.faults import check_kinds
from gptgate.simulator.state import STATE_KEY, Fault
from gptgate.simulator.validate import Rejection


def json_reply(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


async def object_body(request: web.Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.read() or b"{}")
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise Rejection(400, {"detail": "Body must be a JSON object"})
    return body


def _parse_faults(body: dict[str, Any]) -> list[Fault]:
    account = body.get("account_id")
    entries = body.get("faults")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "kind" in e for e in entries):
        raise Rejection(400, {"detail": "faults must be a list of objects with a kind"})
    if account is not None and not isinstance(account, str):
        raise Rejection(400, {"detail": "account_id must be a string"})
    faults = [Fault(str(e["kind"]), {k: v for k, v in e.items() if k != "kind"}, account) for e in entries]
    check_kinds(faults)
    return faults


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def queue_faults(request: web.Request) -> web.Response:
    try:
        faults = _parse_faults(await object_body(request))
    except Rejection as rejection:
        return json_reply(rejection.body, rejection.status)
    return json_reply({"queued": request.app[STATE_KEY].queue_faults(faults)})


async def list_faults(request: web.Request) -> web.Response:
    queue = request.app[STATE_KEY].faults
    return json_reply({"faults": [{"kind": f.kind, **f.params, "account_id": f.account_id} for f in queue]})


async def clear_faults(request: web.Request) -> web.Response:
    return json_reply({"cleared": request.app[STATE_KEY].clear_faults()})


async def list_requests(request: web.Request) -> web.Response:
    return json_reply({"requests": list(request.app[STATE_KEY].requests)})


async def clear_requests(request: web.Request) -> web.Response:
    return json_reply({"cleared": request.app[STATE_KEY].clear_requests()})


async def add_refresh_token(request: web.Request) -> web.Response:
    try:
        body = await object_body(request)
    except Rejection as rejection:
        return json_reply(rejection.body, rejection.status)
    token, account = body.get("refresh_token"), body.get("account_id")
    if not isinstance(token, str) or not isinstance(account, str):
        return json_reply({"detail": "refresh_token and account_id are required strings"}, 400)
    plan, email = str(body.get("plan", "plus")), str(body.get("email", "demo@example.com"))
    request.app[STATE_KEY].add_refresh_token(token, account, plan, email)
    return json_reply({"ok": True})


async def reset_account(request: web.Request) -> web.Response:
    request.app[STATE_KEY].reset_account(request.match_info["account_id"])
    return json_reply({"ok": True})


async def reset_all(request: web.Request) -> web.Response:
    request.app[STATE_KEY].reset()
    return json_reply({"ok": True})


def add_control_routes(app: web.Application) -> None:
    app.router.add_get("/_sim/health", health)
    app.router.add_post("/_sim/faults", queue_faults)
    app.router.add_get("/_sim/faults", list_faults)
    app.router.add_delete("/_sim/faults", clear_faults)
    app.router.add_get("/_sim/requests", list_requests)
    app.router.add_delete("/_sim/requests", clear_requests)
    app.router.add_post("/_sim/refresh-tokens", add_refresh_token)
    app.router.add_post("/_sim/accounts/{account_id}/reset", reset_account)
    app.router.add_post("/_sim/reset", reset_all)
