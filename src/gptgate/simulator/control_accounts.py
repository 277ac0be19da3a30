"""The ``/_sim/`` control API for accounts, tokens, auth-endpoint faults, statistics and time.

==============================================  ===========================================
``POST /_sim/accounts``                         ``{"count": N, "plan"?, "primary_limit"?,
                                                "secondary_limit"?}`` → ``{"accounts": [{
                                                account_id, email, plan, access_token,
                                                refresh_token, id_token, session_token}]}``
``GET  /_sim/accounts``                         known accounts: identity, deactivated, quota
``POST /_sim/accounts/{account_id}/deactivate``  401 ``account_deactivated`` from then on
``POST /_sim/accounts/{account_id}/activate``    undo it
``POST /_sim/accounts/{account_id}/quota``       ``{"primary_limit", "secondary_limit"}``
                                                (turns per window; null: the config's)
``POST /_sim/refresh-tokens/revoke``            ``{"refresh_token" | "account_id", "code"?}``
                                                → ``{"revoked": n}``; ``code`` is what a later
                                                refresh answers (default
                                                ``refresh_token_invalidated``)
``POST /_sim/sessions``                         ``{"session_token", "account_id",
                                                "expires_in"?, "plan"?, "email"?}``
``GET  /_sim/stats``                            ``{"refresh": {account: {calls, ok, rejected,
                                                failed}}, "session": {…}, "turns": {account: n}}``
``GET|PUT /_sim/auth``                          ``{"delay_ms", "outage": {"kind", …} | null}``
``POST|DELETE /_sim/auth/faults``               one-shot auth faults (``auth_faults.py``)
``POST /_sim/time``                             ``{"advance_seconds": S}`` → ``{"now": t}``
==============================================  ===========================================
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gptgate.simulator.auth_faults import check_auth_kinds
from gptgate.simulator.control import json_reply, object_body
from gptgate.simulator.logins import DEAD_CODES, REFRESH_INVALIDATED
from gptgate.simulator.state import STATE_KEY, Fault
from gptgate.simulator.validate import Rejection, detail

MAX_SEED = 10_000


def _optional_int(body: dict[str, Any], name: str, minimum: int = 0) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise detail(f"{name} must be an integer >= {minimum}")
    return value


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise detail(f"{name} must be a string")
    return value


def _fault(entry: Any) -> Fault:
    if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str):
        raise detail("an auth fault is an object with a kind")
    fault = Fault(entry["kind"], {k: v for k, v in entry.items() if k != "kind"})
    problem = check_auth_kinds([fault])
    if problem is not None:
        raise detail(problem)
    return fault


Action = Callable[[web.Request], Awaitable[dict[str, Any]]]


def _route(action: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler answering ``action``'s object as JSON, or its :class:`Rejection`."""

    async def handler(request: web.Request) -> web.Response:
        try:
            return json_reply(await action(request))
        except Rejection as rejection:
            return json_reply(rejection.body, rejection.status)

    return handler


# -- accounts ---------------------------------------------------------------------------------
async def _seed(request: web.Request) -> dict[str, Any]:
    body = await object_body(request)
    count = _optional_int(body, "count", 1) or 1
    if count > MAX_SEED:
        raise detail(f"count must be at most {MAX_SEED}")
    created = request.app[STATE_KEY].seed_accounts(
        count,
        plan=_optional_str(body, "plan"),
        primary_limit=_optional_int(body, "primary_limit"),
        secondary_limit=_optional_int(body, "secondary_limit"),
    )
    return {"accounts": [credentials.as_json() for credentials in created]}


async def _list(request: web.Request) -> dict[str, Any]:
    state = request.app[STATE_KEY]
    accounts = []
    for login in state.logins.by_id.values():
        usage = state.usage_for(login.account_id)
        accounts.append(
            {
                "account_id": login.account_id,
                "email": login.email,
                "plan": login.plan,
                "deactivated": login.deactivated,
                "primary_used": usage.used,
                "primary_limit": state.primary_limit(usage),
                "secondary_used": usage.total,
                "secondary_limit": state.secondary_limit(usage),
            }
        )
    return {"accounts": accounts}


async def _set_quota(request: web.Request) -> dict[str, Any]:
    body = await object_body(request)
    primary, secondary = _optional_int(body, "primary_limit"), _optional_int(body, "secondary_limit")
    request.app[STATE_KEY].set_quota(request.match_info["account_id"], primary, secondary)
    return {"ok": True}


async def _deactivate(request: web.Request) -> dict[str, Any]:
    request.app[STATE_KEY].logins.set_deactivated(request.match_info["account_id"], True)
    return {"ok": True}


async def _activate(request: web.Request) -> dict[str, Any]:
    request.app[STATE_KEY].logins.set_deactivated(request.match_info["account_id"], False)
    return {"ok": True}


# -- tokens -----------------------------------------------------------------------------------
async def _revoke(request: web.Request) -> dict[str, Any]:
    body = await object_body(request)
    token, account = _optional_str(body, "refresh_token"), _optional_str(body, "account_id")
    code = _optional_str(body, "code") or REFRESH_INVALIDATED
    if (token is None) == (account is None):
        raise detail("give exactly one of refresh_token and account_id")
    if code not in DEAD_CODES:
        raise detail(f"code must be one of {sorted(DEAD_CODES)}")
    return {"revoked": request.app[STATE_KEY].logins.revoke(token=token, account_id=account, code=code)}


async def _add_session(request: web.Request) -> dict[str, Any]:
    body = await object_body(request)
    token, account = _optional_str(body, "session_token"), _optional_str(body, "account_id")
    if token is None or account is None:
        raise detail("session_token and account_id are required strings")
    logins = request.app[STATE_KEY].logins
    logins.add(account, plan=_optional_str(body, "plan"), email=_optional_str(body, "email"))
    logins.add_session_token(token, account, _optional_int(body, "expires_in"))
    return {"ok": True}


async def _stats(request: web.Request) -> dict[str, Any]:
    state = request.app[STATE_KEY]
    turns = {account: usage.turns for account, usage in state.accounts.items() if usage.turns}
    return {**state.logins.stats(), "turns": turns}


# -- auth endpoint behaviour and time ---------------------------------------------------------
def _auth_settings(request: web.Request) -> dict[str, Any]:
    state = request.app[STATE_KEY]
    outage = state.auth_outage
    return {
        "delay_ms": state.auth_delay_ms,
        "outage": None if outage is None else {"kind": outage.kind, **outage.params},
        "queued_faults": len(state.auth_faults),
    }


async def _get_auth(request: web.Request) -> dict[str, Any]:
    return _auth_settings(request)


async def _put_auth(request: web.Request) -> dict[str, Any]:
    body = await object_body(request)
    state = request.app[STATE_KEY]
    if "delay_ms" in body:
        delay = body["delay_ms"]
        if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
            raise detail("delay_ms must be a number >= 0")
        state.auth_delay_ms = float(delay)
    if "outage" in body:
        state.auth_outage = None if body["outage"] is None else _fault(body["outage"])
    return _auth_settings(request)


async def _queue_auth_faults(request: web.Request) -> dict[str, Any]:
    entries = (await object_body(request)).get("faults")
    if not isinstance(entries, list):
        raise detail("faults must be a list")
    faults = [_fault(entry) for entry in entries]
    request.app[STATE_KEY].auth_faults.extend(faults)
    return {"queued": len(faults)}


async def _clear_auth_faults(request: web.Request) -> dict[str, Any]:
    state = request.app[STATE_KEY]
    cleared = len(state.auth_faults)
    state.auth_faults.clear()
    return {"cleared": cleared}


async def _advance_time(request: web.Request) -> dict[str, Any]:
    body = await object_body(request)
    seconds = body.get("advance_seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        raise detail("advance_seconds must be a number")
    state = request.app[STATE_KEY]
    state.advance_time(float(seconds))
    return {"now": state.now()}


ROUTES: tuple[tuple[str, str, Action], ...] = (
    ("POST", "/_sim/accounts", _seed),
    ("GET", "/_sim/accounts", _list),
    ("POST", "/_sim/accounts/{account_id}/deactivate", _deactivate),
    ("POST", "/_sim/accounts/{account_id}/activate", _activate),
    ("POST", "/_sim/accounts/{account_id}/quota", _set_quota),
    ("POST", "/_sim/refresh-tokens/revoke", _revoke),
    ("POST", "/_sim/sessions", _add_session),
    ("GET", "/_sim/stats", _stats),
    ("GET", "/_sim/auth", _get_auth),
    ("PUT", "/_sim/auth", _put_auth),
    ("POST", "/_sim/auth/faults", _queue_auth_faults),
    ("DELETE", "/_sim/auth/faults", _clear_auth_faults),
    ("POST", "/_sim/time", _advance_time),
)


def add_account_control_routes(app: web.Application) -> None:
    for method, path, action in ROUTES:
        app.router.add_route(method, path, _route(action))
