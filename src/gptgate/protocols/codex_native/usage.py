"""``GET /backend-api/wham/usage`` and ``GET /backend-api/wham/accounts/check``: the pool as one account.

``wham/usage`` answers Codex's ``RateLimitStatusPayload`` with the pool's combined windows
(``accounts/pooled.py`` has the formula): integers throughout (Codex reads ``used_percent``,
``limit_window_seconds``, ``reset_after_seconds`` and ``reset_at`` as 32-bit integers) and a
``plan_type`` from the set it knows. A key without ``see_quota`` gets the neutral view (0 % or
100 %, no plan); a client served from its own ChatGPT account (bring-your-own-token) sees that
account's windows as its last turn reported them, nothing of the pool. The same figures ride on every Codex-native turn as ``x-codex-*`` headers, so
Codex's status line shows the pool, never the account that happened to serve.

``wham/accounts/check`` lists the one "account" the client signed in as: the
``chatgpt-account-id`` it sent (its own configuration, echoed), nothing of the pool. Codex 0.169
reads its workspace routing from it before the first turn ("workspace routing discovery"): the
entry's ``workspace_backend_origin`` (where the workspace's traffic goes; it must be https://)
is gptgate's own origin and ``account_routing_override`` is ``NO_CONSTRAINT`` (no regional
routing header). Without them Codex refuses to send a turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from gptgate.accounts.model import Account
from gptgate.accounts.pooled import PooledQuota, PooledWindow, neutral, pooled_quota
from gptgate.dispatch.context import CallContext
from gptgate.files.links import request_base
from gptgate.gateway import Gateway
from gptgate.http import ACCOUNT_HEADER, call_of, gateway_of, json_response
from gptgate.types import JSONObject

#: plan names Codex's usage payload accepts (an unknown one fails its decoding)
PLANS: Final = frozenset(
    {
        "guest",
        "free",
        "go",
        "plus",
        "pro",
        "free_workspace",
        "team",
        "business",
        "education",
        "quorum",
        "k12",
        "enterprise",
        "edu",
    }
)
#: the plan shown when the key may not see the pool's, or none is known
NEUTRAL_PLAN: Final = "pro"
#: an account's windows older than this are read again (its usage endpoint, no turn spent)
FRESH_SECONDS: Final = 60.0
#: how long ``wham/usage`` waits for those reads; what is not read by then stays as it was
REFRESH_BUDGET_S: Final = 5.0
#: the account id shown when the client sent none
DEFAULT_ACCOUNT: Final = "gptgate"


def may_see_quota(call: CallContext) -> bool:
    """A stored key shows the pool's figures only with ``see_quota``; without stored keys (static
    ``api_keys``, a loopback gateway) the operator's own clients do."""
    return call.key is None or call.key.limits.see_quota


async def pool_view(gateway: Gateway, call: CallContext, now: float | None = None) -> PooledQuota:
    """The figures this call may see, from the shared cool-downs and each account's windows."""
    now = time.time() if now is None else now
    if call.byo is not None:  # a client's own account: its own windows, nothing of the pool
        return pooled_quota([call.byo], {}, now=now)
    cooling = {k: c.until for k, c in (await gateway.state.cooldowns()).items()}
    pooled = pooled_quota(gateway.pool.accounts, cooling, now=now)
    return pooled if may_see_quota(call) else neutral(pooled, now)


def view_now(gateway: Gateway, call: CallContext, now: float | None = None) -> PooledQuota:
    """:func:`pool_view` without waiting on the shared state (each account's own cool-down):
    for the headers of a turn, which must not add a round trip."""
    now = time.time() if now is None else now
    if call.byo is not None:
        return pooled_quota([call.byo], {}, now=now)
    cooling = {a.id: a.cooldown_until for a in gateway.pool.accounts}
    pooled = pooled_quota(gateway.pool.accounts, cooling, now=now)
    return pooled if may_see_quota(call) else neutral(pooled, now)


def usage_body(view: PooledQuota, now: float) -> JSONObject:
    plan = view.plan if view.plan in PLANS else NEUTRAL_PLAN
    return {
        "plan_type": plan,
        "rate_limit": {
            "allowed": not view.limit_reached,
            "limit_reached": view.limit_reached,
            "primary_window": _window(view.primary, now),
            "secondary_window": _window(view.secondary, now),
        },
        "credits": None,
    }


def _window(window: PooledWindow, now: float) -> JSONObject:
    return {
        "used_percent": window.used_percent,
        "limit_window_seconds": window.window_seconds,
        "reset_after_seconds": max(0, window.resets_at - int(now)),
        "reset_at": window.resets_at,
    }


def rate_limit_headers(view: PooledQuota, now: float) -> dict[str, str]:
    """The ``x-codex-*`` headers of a turn (codex-backend.md §1.3), from the same view."""
    headers = {"x-codex-active-limit": "codex", "x-codex-plan-type": view.plan or NEUTRAL_PLAN}
    for name, window in (("primary", view.primary), ("secondary", view.secondary)):
        prefix = f"x-codex-{name}-"
        headers[prefix + "used-percent"] = str(window.used_percent)
        headers[prefix + "window-minutes"] = str(window.window_seconds // 60)
        headers[prefix + "reset-at"] = str(window.resets_at)
        headers[prefix + "reset-after-seconds"] = str(max(0, window.resets_at - int(now)))
    return headers


async def refresh_stale(gateway: Gateway, now: float) -> None:
    """Read the windows of the Codex accounts whose snapshot is older than :data:`FRESH_SECONDS`
    (concurrently, within :data:`REFRESH_BUDGET_S`), so an idle pool's figures are current."""
    stale = [
        a
        for a in gateway.pool.accounts
        if a.usable and a.serves("codex") and now - a.quota.updated_at > FRESH_SECONDS
    ]

    async def read(account: Account) -> None:
        with contextlib.suppress(Exception):  # an unreadable account keeps its last snapshot
            await gateway.accounts.check(account)

    if stale:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(read(a) for a in stale)), REFRESH_BUDGET_S)


async def wham_usage(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    if call_of(request).byo is None:
        await refresh_stale(gateway, time.time())
    now = time.time()
    view = await pool_view(gateway, call_of(request), now)
    return json_response(usage_body(view, now))


async def accounts_check(request: web.Request) -> web.Response:
    account = request.headers.get(ACCOUNT_HEADER) or DEFAULT_ACCOUNT
    entry = {
        "id": account,
        "name": "gptgate",
        "profile_picture_url": None,
        "structure": "personal",
        "plan_type": NEUTRAL_PLAN,
        "is_deactivated": False,
        "is_fedramp_compliant_workspace": False,
        "can_access_with_session": True,
        "sso_connection_name": None,
        # Codex 0.169 routes the workspace's traffic to this origin (it must be https://): the
        # gateway itself, as the client reached it
        "workspace_backend_origin": backend_origin(request),
        "account_routing_override": "NO_CONSTRAINT",  # no regional routing header
    }
    return json_response({"accounts": [entry], "account_ordering": [account], "default_account_id": account})


def backend_origin(request: web.Request) -> str:
    """``scheme://host[:port]`` of this gateway: ``public_base_url``'s, else the request's."""
    public = gateway_of(request).settings.public_base_url
    if public:
        parts = urlsplit(public)
        return f"{parts.scheme}://{parts.netloc}"
    return request_base(request)
