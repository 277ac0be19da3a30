"""``/admin/api/keys``: list (with usage), create, update, revoke and rotate client API keys.

A secret is in the answer of ``POST /keys`` and ``POST /keys/{id}/rotate`` only, never again.
The store is synchronous: every call runs in a thread. After a change the ``accounts`` channel
is told ``reload keys``, so every worker reloads its key ring at once (else at its next store
poll, within ``reload_seconds``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from gptgate.accounts.refresh import CHANNEL
from gptgate.admin.accounts_api import require_store
from gptgate.admin.errors import AdminError, json_body, json_reply, not_found
from gptgate.gateway import Gateway
from gptgate.http import gateway_of
from gptgate.keys import ops
from gptgate.keys.model import KeyLimits, KeyRecord
from gptgate.keys.ops import parse_expiry
from gptgate.storage import Store
from gptgate.storage.keys import DuplicateKey

ZERO_USAGE = {"requests": 0, "input_tokens": 0, "output_tokens": 0}


def routes() -> list[web.RouteDef]:
    return [
        web.get("/keys", list_keys),
        web.post("/keys", create_key),
        web.get("/keys/{id}", get_key),
        web.patch("/keys/{id}", update_key),
        web.post("/keys/{id}/revoke", revoke_key),
        web.post("/keys/{id}/rotate", rotate_key),
    ]


def _usage_by_key(store: Store) -> dict[str, dict[str, int]]:
    usage = getattr(store, "usage", None)
    if usage is None or not hasattr(usage, "totals"):
        return {}
    return {
        t.group: {"requests": t.requests, "input_tokens": t.input_tokens, "output_tokens": t.output_tokens}
        for t in usage.totals("key", 0.0)
        if t.group is not None
    }


def _present(record: KeyRecord, usage: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {**record.public(), "usage": usage.get(record.id, ZERO_USAGE)}


async def _record(store: Store, id_: str) -> KeyRecord:
    record = await asyncio.to_thread(store.keys.get, id_)
    if record is None:
        raise not_found(f"No key {id_!r}.")
    return record


async def _changed(gateway: Gateway) -> None:
    await gateway.state.publish(CHANNEL, "reload keys")


def _limits(body: dict[str, Any], base: KeyLimits | None = None) -> KeyLimits:
    raw = body.get("limits", {})
    if not isinstance(raw, dict):
        raise AdminError("'limits' must be an object.", code="invalid_limits")
    given = {k: v for k, v in raw.items() if k != "see_quota" or v is not None}
    try:
        return KeyLimits.from_json(given, base)
    except ValueError as exc:
        raise AdminError(f"Bad limits: {exc}.", code="invalid_limits") from exc


def _expiry(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_expiry(value)
        except ValueError as exc:
            raise AdminError(str(exc), code="invalid_expiry") from exc
    raise AdminError("'expires_at' must be epoch seconds, an ISO time or null.", code="invalid_expiry")


async def list_keys(request: web.Request) -> web.Response:
    store = require_store(gateway_of(request))
    records = await asyncio.to_thread(store.keys.list)
    usage = await asyncio.to_thread(_usage_by_key, store)
    return json_reply({"keys": [_present(r, usage) for r in records]})


async def get_key(request: web.Request) -> web.Response:
    store = require_store(gateway_of(request))
    record = await _record(store, request.match_info["id"])
    usage = await asyncio.to_thread(_usage_by_key, store)
    return json_reply({"key": _present(record, usage)})


async def create_key(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    store = require_store(gateway)
    body = await json_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise AdminError("A key needs a 'name'.", code="missing_name")
    limits, expires_at = _limits(body), _expiry(body.get("expires_at"))
    note = body.get("note") if isinstance(body.get("note"), str) else None
    try:
        record, secret = await asyncio.to_thread(
            lambda: ops.create(store, name, limits, expires_at=expires_at, note=note)
        )
    except DuplicateKey as exc:
        raise AdminError(str(exc), 409, "duplicate_key") from exc
    await _changed(gateway)
    return json_reply({"key": _present(record, {}), "secret": secret}, 201)


async def update_key(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    store = require_store(gateway)
    record = await _record(store, request.match_info["id"])
    body = await json_body(request)
    unknown = set(body) - {"name", "limits", "expires_at", "note"}
    if unknown:
        raise AdminError(f"Cannot change {sorted(unknown)[0]!r} of a key.", code="invalid_field")
    values: dict[str, Any] = {}
    if "limits" in body:
        values["limits"] = _limits(body, record.limits)
    if "expires_at" in body:
        values["expires_at"] = _expiry(body["expires_at"])
    for field in ("name", "note"):
        if field in body:
            if not isinstance(body[field], str | None) or (field == "name" and not body[field]):
                raise AdminError(f"'{field}' must be a string.", code="invalid_field")
            values[field] = body[field]
    try:
        updated = await asyncio.to_thread(store.keys.update, record.id, values)
    except DuplicateKey as exc:
        raise AdminError(str(exc), 409, "duplicate_key") from exc
    await _changed(gateway)
    return json_reply({"key": _present(updated, {})})


async def revoke_key(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    store = require_store(gateway)
    record = await _record(store, request.match_info["id"])
    revoked = await asyncio.to_thread(store.keys.revoke, record.id)
    await _changed(gateway)
    return json_reply({"key": _present(revoked, {})})


async def rotate_key(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    store = require_store(gateway)
    record = await _record(store, request.match_info["id"])
    if record.revoked_at is not None:
        raise AdminError("A revoked key cannot be rotated; create a new one.", 409, "key_revoked")
    rotated, secret = await asyncio.to_thread(ops.rotate, store, record.id)
    await _changed(gateway)
    return json_reply({"key": _present(rotated, {}), "secret": secret})
