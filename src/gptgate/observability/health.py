"""``/healthz`` (the process answers) and ``/readyz`` (it can serve a model call now).

A load balancer or an orchestrator sends traffic to an instance that is ready: its account
store answers, and at least one account is usable and not cooling down (cool-downs are read
from the shared state, so every worker agrees). The 503 body says which check failed and how
many accounts are in each state; it names no account and carries no token. From SIGTERM on
(graceful shutdown, ``server.py``) it answers 503 ``draining`` whatever the checks say.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import Engine

from gptgate.accounts.model import Account
from gptgate.gateway import Gateway
from gptgate.http import gateway_of, json_response
from gptgate.observability.metrics import ACCOUNT_STATES

#: A store that does not answer ``SELECT 1`` within this many seconds is not reachable.
STORE_TIMEOUT = 3.0


def account_states(accounts: Iterable[Account], cooling: Mapping[str, object], now: float) -> dict[str, int]:
    """Accounts by state: ``active`` (can serve now), ``cooling``, or their stored status."""
    counts = dict.fromkeys(ACCOUNT_STATES, 0)
    for account in accounts:
        if account.status != "active":
            state = account.status
        elif account.id in cooling or account.cooldown_until > now:
            state = "cooling"
        else:
            state = "active" if account.usable else "needs_relogin"  # no token left to serve with
        counts[state] = counts.get(state, 0) + 1
    return counts


async def gateway_states(gateway: Gateway) -> dict[str, int]:
    """The gateway's accounts by state, with the cool-downs every process shares."""
    cooling = await gateway.state.cooldowns()
    return account_states(gateway.pool.accounts, cooling, time.time())


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    if gateway.draining:  # shutting down: open streams finish, new work goes elsewhere
        return json_response({"status": "draining", "checks": {"shutdown": "in progress"}}, status=503)
    checks: dict[str, str] = {}
    store = gateway.store
    if store is None:
        checks["store"] = "off"
    else:
        checks["store"] = "ok" if await store_reachable(store) else "unreachable"
    counts = await gateway_states(gateway)
    if gateway.byo is not None and gateway.settings.byo_only:
        checks["accounts"] = "not used (clients bring their own token)"
    else:
        checks["accounts"] = "ok" if counts["active"] else "no account can serve now"
    ready = checks["store"] != "unreachable" and checks["accounts"] != "no account can serve now"
    body = {"status": "ready" if ready else "unavailable", "checks": checks, "accounts": counts}
    return json_response(body, status=200 if ready else 503)


async def store_reachable(store: object) -> bool:
    """``SELECT 1`` through the store's engine (in a thread: the driver blocks)."""
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine):
        return True  # a store without an engine has no cheap probe: its reads fail loudly enough
    try:
        await asyncio.wait_for(asyncio.to_thread(_select_one, engine), STORE_TIMEOUT)
    except Exception:
        return False
    return True


def _select_one(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def health_routes() -> list[web.RouteDef]:
    """``GET /healthz`` and ``GET /readyz`` (open paths: no client key)."""
    return [web.get("/healthz", healthz), web.get("/readyz", readyz)]
