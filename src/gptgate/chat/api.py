"""``/chat/api``: who the key holder is, and their conversations, kept per key in the store.

These routes sit behind the same client-key check as the model calls (the app's ``guard``
middleware runs :func:`gptgate.http.authorize`, which puts a stored key in ``call.key``), so a
revoked key loses its conversations the moment it loses the API. The owner of a conversation
is the stored key's id, ``static:<sha256 prefix>`` for a key from ``api_keys`` (the secret
itself is never stored), ``byo:<sha256 prefix>`` of a client's own ChatGPT account, or
``anonymous`` on a gateway that has no keys. Every query matches the owner with the id, so
another key's conversation answers 404 like one that never existed (403 would confirm it does).

Errors are answered in the OpenAI envelope the page reads for its chat calls too, by each route
itself (:func:`openai_errors`): the middleware would pick a protocol by path, and a path ending
in ``/messages`` reads as Anthropic's there. Writes must be ``Content-Type: application/json``: that forces a CORS
preflight on any cross-site write, which this gateway never grants (matters for ``anonymous``).
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from gptgate.errors import GatewayError, NotFoundError, RequestError
from gptgate.http import API_PREFIX, call_of, client_key, gateway_of, is_key, json_response, read_body
from gptgate.protocols.openai_errors import error_response
from gptgate.storage.chats import ROLES, ChatMessage, SqlChatStore
from gptgate.types import JSONObject

ANONYMOUS = "anonymous"
TITLE_MAX = 200
MODEL_MAX = 200
TURNS_MAX = 50
NO_STORE = (
    "This gateway runs without an account store (account_store is off), so it keeps no "
    "conversations: they stay in this browser only."
)


class Conflict(RequestError):
    status = 409


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def owner_of(request: web.Request) -> tuple[str, str | None]:
    """(owner, display name) of the caller, already admitted by ``authorize``."""
    call = call_of(request)
    if call.key is not None:
        return call.key.id, call.key.name
    if call.byo is not None:
        return "byo:" + _digest(call.byo.account_id or call.byo.access_token), call.byo.email
    presented = client_key(request)
    keys = gateway_of(request).settings.key_values()
    if presented and keys and is_key(presented, keys):
        return "static:" + _digest(presented), None
    return ANONYMOUS, None


def _chats(request: web.Request) -> SqlChatStore:
    store = gateway_of(request).store
    if store is None:
        raise Conflict(NO_STORE, code="no_chat_store")
    return store.chats


def _reply(data: JSONObject, status: int = 200) -> web.Response:
    return json_response(data, {"Cache-Control": "no-store"}, status)


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise RequestError("Send the body as 'Content-Type: application/json'.", code="invalid_content_type")
    raw = await read_body(request)
    try:
        value = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise RequestError("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(value, dict):
        raise RequestError("The body must be a JSON object.", code="invalid_json")
    return value


def _text(body: dict[str, Any], name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise RequestError(f"'{name}' must be a string of at most {limit} characters.", param=name)
    return value


def _turns(value: Any) -> list[ChatMessage]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > TURNS_MAX:
        raise RequestError(f"'messages' must be a list of at most {TURNS_MAX} messages.", param="messages")
    turns: list[ChatMessage] = []
    for i, item in enumerate(value):
        where = f"messages[{i}]"
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            raise RequestError(f"'{where}.role' must be one of {', '.join(sorted(ROLES))}.", param=where)
        content = item.get("content")
        if not isinstance(content, str) and not (
            isinstance(content, list) and all(isinstance(p, dict) for p in content)
        ):
            raise RequestError(f"'{where}.content' must be a string or a list of parts.", param=where)
        reasoning = item.get("reasoning")
        if reasoning is not None and not isinstance(reasoning, str):
            raise RequestError(f"'{where}.reasoning' must be a string.", param=where)
        turns.append(ChatMessage(role=item["role"], content=content, reasoning=reasoning))
    return turns


def _missing(id_: str) -> NotFoundError:
    return NotFoundError(f"No conversation {id_!r}.", code="conversation_not_found")


async def me(request: web.Request) -> web.Response:
    """Whether the key is good (the middleware refused it otherwise) and what the page needs."""
    owner, name = owner_of(request)
    prefix = request.app.get(API_PREFIX, "")
    kind = "key" if call_of(request).key is not None else owner.split(":", 1)[0]
    store = gateway_of(request).store is not None
    return _reply({"owner": owner, "kind": kind, "name": name, "store": store, "api_base": prefix + "/v1"})


async def list_conversations(request: web.Request) -> web.Response:
    chats, (owner, _) = _chats(request), owner_of(request)
    found = await asyncio.to_thread(chats.list, owner)
    return _reply({"conversations": [c.public() for c in found]})


async def create_conversation(request: web.Request) -> web.Response:
    chats, (owner, _) = _chats(request), owner_of(request)
    body = await _body(request)
    title = (_text(body, "title", TITLE_MAX) or "").strip() or "New chat"
    model, turns = _text(body, "model", MODEL_MAX), _turns(body.get("messages"))
    made = await asyncio.to_thread(chats.create, owner, title, model, turns)
    return _reply({"conversation": made.public()}, 201)


async def get_conversation(request: web.Request) -> web.Response:
    chats, (owner, _), id_ = _chats(request), owner_of(request), request.match_info["id"]
    found = await asyncio.to_thread(chats.get, owner, id_)
    if found is None:
        raise _missing(id_)
    return _reply({"conversation": found.public()})


async def update_conversation(request: web.Request) -> web.Response:
    chats, (owner, _), id_ = _chats(request), owner_of(request), request.match_info["id"]
    body = await _body(request)
    unknown = set(body) - {"title", "model"}
    if unknown:
        name = sorted(unknown)[0]
        raise RequestError(f"Cannot change {name!r} of a conversation.", param=name, code="invalid_field")
    values: dict[str, Any] = {}
    if "title" in body:
        title = (_text(body, "title", TITLE_MAX) or "").strip()
        if not title:
            raise RequestError("'title' must not be empty.", param="title")
        values["title"] = title
    if "model" in body:
        values["model"] = _text(body, "model", MODEL_MAX)
    found = await asyncio.to_thread(chats.update, owner, id_, values)
    if found is None:
        raise _missing(id_)
    return _reply({"conversation": found.public()})


async def delete_conversation(request: web.Request) -> web.Response:
    chats, (owner, _), id_ = _chats(request), owner_of(request), request.match_info["id"]
    if not await asyncio.to_thread(chats.delete, owner, id_):
        raise _missing(id_)
    return _reply({"id": id_, "deleted": True})


async def append_messages(request: web.Request) -> web.Response:
    """The turn the page just streamed (the user's message and the answer), added at the end."""
    chats, (owner, _), id_ = _chats(request), owner_of(request), request.match_info["id"]
    turns = _turns((await _body(request)).get("messages"))
    added = await asyncio.to_thread(chats.append, owner, id_, turns)
    if added is None:
        raise _missing(id_)
    return _reply({"messages": [m.public() for m in added]}, 201)


def openai_errors(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except GatewayError as exc:
            return error_response(exc)

    return wrapped


def routes() -> list[tuple[str, str, Handler]]:
    """(method, path under /chat/api, handler) of every route."""
    table: list[tuple[str, str, Handler]] = [
        ("GET", "/me", me),
        ("GET", "/conversations", list_conversations),
        ("POST", "/conversations", create_conversation),
        ("GET", "/conversations/{id}", get_conversation),
        ("PATCH", "/conversations/{id}", update_conversation),
        ("DELETE", "/conversations/{id}", delete_conversation),
        ("POST", "/conversations/{id}/messages", append_messages),
    ]
    return [(method, path, openai_errors(handler)) for method, path, handler in table]
