"""The Codex backend's unary JSON calls: remote compaction and the standalone web search.

``POST …/codex/responses/compact`` takes the thread's history and answers ``{"output": [items]}``
(the compacted history, its ``compaction`` item encrypted for the account that made it);
``POST …/codex/alpha/search`` takes Codex's search request and answers ``{"output": "…",
"encrypted_output": "…"}``. Neither streams. The body goes out as the client sent it, except
what the backend rejects on a compaction (the turn's token limits, sampling, ``stream``); the
answer comes back as it came, with the one header Codex keeps from it (``x-codex-turn-state``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.types import JSONObject
from gptgate.upstreams.base import UnaryReply
from gptgate.upstreams.codex.encode import REJECTED
from gptgate.upstreams.codex.errors import classify
from gptgate.upstreams.transport import TransportResponse

COMPACT_PATH: Final = "/responses/compact"
SEARCH_PATH: Final = "/alpha/search"
#: answer headers passed back to the client (Codex replays the turn state on its next call)
REPLY_HEADERS: Final = ("x-codex-turn-state", "x-request-id")


def compact_body(body: JSONObject) -> bytes:
    """A compaction request as the backend takes it: no ``stream``, nothing it rejects."""
    return orjson.dumps({k: v for k, v in body.items() if k not in REJECTED and k != "stream"})


def search_body(body: JSONObject) -> bytes:
    """A search request goes out verbatim (its ``max_output_tokens`` is the search's own)."""
    return orjson.dumps(body)


def unary_headers(
    account: Account, client: Mapping[str, str], *, originator: str, version: str, agent: str
) -> dict[str, str]:
    """The account's auth and the official client's identity, then the client's own session
    headers (``session-id``, ``x-codex-beta-features``, ...) as it sent them."""
    headers = {
        "authorization": "Bearer " + account.access_token,
        "content-type": "application/json",
        "accept": "application/json",
        "originator": originator,
        "user-agent": agent,
        "version": version,
    }
    if account.account_id:
        headers["chatgpt-account-id"] = account.account_id
    headers.update(client)
    return headers


async def read_reply(resp: TransportResponse) -> UnaryReply:
    """The answer, or the classified upstream error (401 expired, 429 usage limit, ...)."""
    try:
        data = await resp.read()
    finally:
        await resp.aclose(True)
    if resp.status != 200:
        raise classify(resp.status, resp.headers, data)
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise errors.UpstreamUnavailable("the upstream answered the call with something other than JSON")
    kept = {name: value for name in REPLY_HEADERS if (value := resp.headers.get(name)) is not None}
    return UnaryReply(body, kept)
