"""``GET /backend-api/wham/usage``: an account's plan and quota windows without spending a turn."""

from __future__ import annotations

import orjson

from gptgate.accounts.model import Account, Quota
from gptgate.upstreams.codex.errors import classify
from gptgate.upstreams.codex.quota import parse_usage
from gptgate.upstreams.transport import Transport


def usage_url(codex_base_url: str) -> str:
    """``https://chatgpt.com/backend-api/codex`` -> ``https://chatgpt.com/backend-api/wham/usage``."""
    base = codex_base_url.rstrip("/")
    root = base[: -len("/codex")] if base.endswith("/codex") else base
    return root + "/wham/usage"


async def fetch_usage(
    transport: Transport, codex_base_url: str, account: Account, agent: str, proxy: str | None = None
) -> Quota:
    """The account's quota now, asked through ``proxy`` (the account's egress, as its turns);
    raises the classified upstream error (401 expired, ...) or ``ProxyFailed``."""
    headers = {
        "authorization": "Bearer " + account.access_token,
        "user-agent": agent,
        "accept": "application/json",
    }
    if account.account_id:
        headers["chatgpt-account-id"] = account.account_id
    status, resp_headers, body = await transport.get(usage_url(codex_base_url), headers, proxy)
    if status != 200:
        raise classify(status, resp_headers, body)
    data = orjson.loads(body)
    return parse_usage(data if isinstance(data, dict) else {})
