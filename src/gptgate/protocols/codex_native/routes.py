"""Codex CLI signed in with ChatGPT, pointed at gptgate (``chatgpt_base_url``/``openai_base_url``).

=================================================  ===========================================
``POST /backend-api/codex/responses``              a turn: the Responses pass-through, as
                                                   ``/v1/responses``, with the pool's
                                                   ``x-codex-*`` figures as headers
``POST /backend-api/codex/responses/compact``      remote compaction on the thread's account
``POST /v1/responses/compact``                     the same, for API-key clients
``POST /backend-api/codex/alpha/search``           Codex's standalone web search
``GET  /backend-api/codex/models``                 Codex's model list (``models.py``)
``GET  /backend-api/wham/usage``                   the pool's quota (``usage.py``)
``GET  /backend-api/wham/accounts/check``          the signed-in "account" (``usage.py``)
``GET  /backend-api/ps/plugins/installed|list``    an empty plugin page
``POST /backend-api/codex/analytics-events/events``  ``{}``: Codex's telemetry, dropped
other ``/backend-api/...`` Codex touches           404 ``{"detail": "Not Found"}``, which it
                                                   tolerates (the captures' answer)
=================================================  ===========================================

The client authenticates with a gptgate key where Codex sends its ChatGPT token
(``Authorization: Bearer``); the ``chatgpt-account-id`` it sends beside it names no pool account
and is only echoed by ``accounts/check``.

Compaction and search are keyed to the thread: ``prompt_cache_key`` of the body, else the
``session-id``/``session_id``/``thread-id`` header (the same value in Codex 0.169), else the search's
``id``. The account that answers is bound to that key in the pool's sticky map, so the thread's
next turns, which carry the encrypted compaction, reach the account that can read it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Final

from aiohttp import web

from gptgate.accounts.model import Account
from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.prepare import prepare
from gptgate.dispatch.unary import Send, UnaryEndpoints, UnaryReply, call_unary
from gptgate.errors import NotFoundError
from gptgate.http import call_of, gateway_of, json_response, read_body
from gptgate.protocols import fields as f
from gptgate.protocols.codex_native.usage import rate_limit_headers, view_now
from gptgate.protocols.fields import parse_object
from gptgate.protocols.responses.decode import CLIENT_HEADERS, decode
from gptgate.protocols.responses.routes import ResponsesTurn
from gptgate.protocols.turn import turn_handler
from gptgate.settings import Settings
from gptgate.types import JSONObject

SESSION_HEADERS: Final = ("session-id", "session_id", "thread-id", "conversation_id")


class CodexTurn(ResponsesTurn):
    """The Responses pass-through; its answer also carries the pool's ``x-codex-*`` figures."""

    def __init__(self, body: JSONObject, request: web.Request, settings: Settings) -> None:
        super().__init__(body, request, settings)
        self._headers = rate_limit_headers(view_now(gateway_of(request), call_of(request)), time.time())

    def headers(self) -> dict[str, str]:
        return self._headers


responses = turn_handler(CodexTurn)


def thread_key(body: JSONObject, headers: Mapping[str, str]) -> str | None:
    """What a compaction or search is bound by: the thread (see the module's docstring)."""
    key = body.get("prompt_cache_key")
    if isinstance(key, str) and key:
        return key
    for name in SESSION_HEADERS:
        if value := headers.get(name):
            return value
    search_id = body.get("id")
    return search_id if isinstance(search_id, str) and search_id else None


async def compact(request: web.Request) -> web.Response:
    """Remote compaction (``{model, input, instructions, tools, ...}`` → ``{"output": [...]}``)."""
    body = parse_object(await read_body(request))
    req = decode({**body, "stream": False}, request.headers)
    req.prompt_cache_key = f.header_safe(thread_key(body, request.headers), "prompt_cache_key")

    async def send(upstream: UnaryEndpoints, account: Account) -> UnaryReply:
        return await upstream.compact({**body, "model": req.model}, req.forward_headers, account)

    return await _unary(request, req, send)


async def search(request: web.Request) -> web.Response:
    """Codex's standalone web search (``{id, model, input, commands, settings, ...}`` →
    ``{"output": "...", "encrypted_output": "..."}``), on the thread's account."""
    body = parse_object(await read_body(request))
    model = f.req_str(body, "model")
    req = CanonicalRequest(model=model, requested_model=model, input=[], origin="responses")
    req.prompt_cache_key = f.header_safe(thread_key(body, request.headers), "prompt_cache_key")
    req.forward_headers = {h: v for h in CLIENT_HEADERS if (v := request.headers.get(h)) is not None}

    async def send(upstream: UnaryEndpoints, account: Account) -> UnaryReply:
        return await upstream.search({**body, "model": req.model}, req.forward_headers, account)

    return await _unary(request, req, send)


async def _unary(request: web.Request, req: CanonicalRequest, send: Send) -> web.Response:
    gateway = gateway_of(request)
    call = call_of(request)
    prepare(req, gateway.catalog, default_effort=None, summary=None, call=call)
    reply = await call_unary(gateway.dispatcher, call, req, send, retries=gateway.settings.retry_times)
    return json_response(reply.body, reply.headers)


async def plugins_page(request: web.Request) -> web.Response:
    """No remote plugins behind a gateway: an empty page in the plugin service's shape."""
    limit = request.query.get("limit", "200")
    return json_response(
        {
            "plugins": [],
            "pagination": {"limit": int(limit) if limit.isdigit() else 200, "next_page_token": None},
        }
    )


async def discard(request: web.Request) -> web.Response:
    """Codex's analytics events: taken and dropped (nothing of a client's telemetry is kept or
    sent on), so Codex does not retry them."""
    await read_body(request)
    return json_response({})


async def not_found(request: web.Request) -> web.Response:
    """A ChatGPT service gptgate does not offer (settings, MCP apps, suggestions): the 404 Codex
    met in the captures and carried on after."""
    raise NotFoundError("Not Found")
