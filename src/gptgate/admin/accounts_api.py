"""``/admin/api/accounts``: list, add, bulk import, export, test, refresh, enable, disable, remove, clear.

The store is synchronous: every call runs in a thread. After a change the ``accounts`` channel
is told (``added``/``status``/``removed`` and the id), so this and every other worker reload that
account at once instead of at their next store poll. Accounts that come from settings (not the
store) are listed and can be tested, but not changed here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from gptgate import errors
from gptgate.accounts import ops
from gptgate.accounts.formats import FORMATS, FormatError, detect_entries, export
from gptgate.accounts.manager import account_from_record
from gptgate.accounts.model import Account, QuotaWindow
from gptgate.accounts.ops import Entry, duplicate_of, public, to_record
from gptgate.accounts.pool import model_caps
from gptgate.accounts.refresh import CHANNEL
from gptgate.admin.errors import AdminError, json_body, json_reply, not_found
from gptgate.gateway import Gateway
from gptgate.http import gateway_of
from gptgate.state.base import Cooldown
from gptgate.storage import AccountRecord, Store, StoreError
from gptgate.storage.base import Status

MAX_IMPORT_ENTRIES = 5000
ENTRY_FIELDS = {f.name for f in dataclasses.fields(Entry)}


def require_store(gateway: Gateway) -> Store:
    if gateway.store is None:
        raise AdminError(
            "This gateway runs without an account store (account_store is off): accounts come from "
            "settings and cannot be changed here.",
            409,
            "no_account_store",
        )
    return gateway.store


async def _record(gateway: Gateway, id_or_name: str) -> AccountRecord:
    record = await asyncio.to_thread(require_store(gateway).get, id_or_name)
    if record is None:
        raise not_found(f"No account {id_or_name!r}.")
    return record


async def _announce(gateway: Gateway, event: str, account_id: str) -> None:
    await gateway.state.publish(CHANNEL, f"{event} {account_id}")


# -- presenting
def _window(window: QuotaWindow | None) -> dict[str, Any] | None:
    if window is None:
        return None
    return {
        "used_percent": window.used_percent,
        "window_minutes": window.window_minutes,
        "resets_at": window.resets_at,
    }


def _runtime(account: Account, now: float) -> dict[str, Any]:
    cooling = account.cooldown_until > now
    return {
        "cooldown_until": account.cooldown_until if cooling else None,
        "cooldown_reason": account.cooldown_reason if cooling else None,
        "in_flight": account.in_flight,
        "windows": {"primary": _window(account.quota.primary), "secondary": _window(account.quota.secondary)},
        "quota_updated_at": account.quota.updated_at or None,
    }


def _health(status: str, runtime: dict[str, Any]) -> str:
    if status != "active":
        return "down"
    return "cooling" if runtime["cooldown_until"] else "ok"


def account_view(
    record: AccountRecord | None,
    account: Account | None,
    now: float,
    cooling: Mapping[str, Cooldown] | None = None,
) -> dict[str, Any]:
    """What the console shows of one account: no token, only whether each is set; with the
    shared ``cooling``, its message caps too (``model_caps``: model -> when the cap clears)."""
    if record is not None:
        view: dict[str, Any] = public(record)
        view["source"] = "store"
    else:
        assert account is not None
        view = {
            "id": account.id,
            "name": account.name,
            "account_id": account.account_id,
            "email": account.email,
            "plan": account.plan,
            "status": account.status,
            "status_reason": account.status_reason,
            "expires_at": account.expires_at,
            "source": "settings",
        }
    if account is None and record is not None:
        account = account_from_record(record)
    assert account is not None
    runtime = _runtime(account, now)
    view.update(runtime)
    view["model_caps"] = model_caps(cooling, account.id) if cooling else {}
    view["health"] = _health(str(view["status"]), runtime)
    return view


async def list_accounts(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    records = await asyncio.to_thread(gateway.store.list) if gateway.store is not None else []
    now = time.time()
    cooling = await gateway.state.cooldowns()
    stored = {r.id for r in records}
    views = [account_view(r, gateway.pool.get(r.id), now, cooling) for r in records]
    views += [account_view(None, a, now, cooling) for a in gateway.pool.accounts if a.id not in stored]
    return json_reply({"accounts": views, "store": gateway.store is not None})


# -- adding
def add_entries(store: Store, entries: list[tuple[str, Entry | ValueError]]) -> dict[str, Any]:
    existing = store.list()
    added: list[AccountRecord] = []
    skipped = 0
    failed: list[str] = []
    for where, entry in entries[:MAX_IMPORT_ENTRIES]:
        try:
            if isinstance(entry, ValueError):
                raise entry
            record = to_record(entry, existing)
            if duplicate_of(record, existing) is not None:
                skipped += 1
                continue
            stored = store.add(record)
            existing.append(stored)
            added.append(stored)
        except (ValueError, StoreError) as exc:
            failed.append(f"{where}: {exc}")
    if len(entries) > MAX_IMPORT_ENTRIES:
        failed.append(f"only the first {MAX_IMPORT_ENTRIES} entries were read")
    return {"added": added, "skipped": skipped, "failed": failed}


async def _finish_import(gateway: Gateway, report: dict[str, Any]) -> web.Response:
    for record in report["added"]:
        await _announce(gateway, "added", record.id)
    now = time.time()
    report["added"] = [account_view(r, None, now) for r in report["added"]]
    status = 201 if report["added"] else 200
    return json_reply(report, status)


async def add_account(request: web.Request) -> web.Response:
    """One account from its tokens: ``{"access_token"?, "refresh_token"?, "session_token"?, ...}``."""
    gateway = gateway_of(request)
    body = await json_body(request)
    unknown = set(body) - ENTRY_FIELDS
    if unknown:
        raise AdminError(f"Unknown fields: {', '.join(sorted(unknown))}.", code="unknown_field")
    if any(v is not None and not isinstance(v, str) for v in body.values()):
        raise AdminError("Every field is a string.", code="invalid_field")
    entry = Entry(**{k: v or None for k, v in body.items()})
    report = await asyncio.to_thread(add_entries, require_store(gateway), [("account", entry)])
    if report["failed"]:
        raise AdminError(report["failed"][0].partition(": ")[2], code="invalid_account")
    if report["skipped"]:
        raise AdminError("This account is already stored.", 409, "duplicate_account")
    return await _finish_import(gateway, report)


async def import_accounts(request: web.Request) -> web.Response:
    """Bulk upload: ``{"text"?: "...", "files"?: [{"name", "content"}], "passphrase"?}`` where each
    text is tokens (one per line), an auth.json, JSON/JSONL, or another gateway's export."""
    gateway = gateway_of(request)
    body = await json_body(request)
    texts: list[tuple[str, str]] = []
    if isinstance(body.get("text"), str) and body["text"].strip():
        texts.append(("pasted text", body["text"]))
    for file in body.get("files") or []:
        if not isinstance(file, dict) or not isinstance(file.get("content"), str):
            raise AdminError("Each file is {name, content}.", code="invalid_file")
        texts.append((str(file.get("name") or "file"), file["content"]))
    if not texts:
        raise AdminError("Paste tokens or choose files to upload.", code="nothing_to_import")
    passphrase = body.get("passphrase") if isinstance(body.get("passphrase"), str) else None
    entries: list[tuple[str, Entry | ValueError]] = []
    for source, text in texts:
        try:
            found = detect_entries(text, passphrase)
        except FormatError as exc:
            found = [("file", ValueError(str(exc)))]
        prefix = f"{source}, " if len(texts) > 1 or source != "pasted text" else ""
        entries.extend((prefix + where, entry) for where, entry in found)
    report = await asyncio.to_thread(add_entries, require_store(gateway), entries)
    return await _finish_import(gateway, report)


async def export_accounts(request: web.Request) -> web.Response:
    """Every stored account with its tokens, in one of :data:`FORMATS` (``?confirm=true`` required)."""
    gateway = gateway_of(request)
    fmt = request.query.get("format", "gptgate")
    if fmt not in FORMATS:
        raise AdminError(f"format is one of {', '.join(FORMATS)}.", code="invalid_format")
    if request.query.get("confirm") != "true":
        raise AdminError(
            "An export holds every account's tokens: repeat with confirm=true.", code="confirmation_required"
        )
    records = await asyncio.to_thread(require_store(gateway).list)
    body = orjson.dumps(export(records, fmt), option=orjson.OPT_INDENT_2)
    name = f"gptgate-accounts-{fmt}-{time.strftime('%Y%m%d')}.json"
    return web.Response(
        body=body,
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


# -- acting on one account
async def set_enabled(request: web.Request, enabled: bool) -> web.Response:
    gateway = gateway_of(request)
    record = await _record(gateway, request.match_info["id"])
    body = await json_body(request)
    reason = body.get("reason") if isinstance(body.get("reason"), str) else None
    status: Status = "active" if enabled else "disabled"
    updated = await asyncio.to_thread(
        require_store(gateway).set_status, record.id, status, None if enabled else reason
    )
    account = gateway.pool.get(record.id)
    if account is not None:  # this worker at once; the others through the channel
        account.status, account.status_reason = updated.status, updated.status_reason
    await _announce(gateway, "status", record.id)
    return json_reply({"account": account_view(updated, account, time.time())})


async def enable(request: web.Request) -> web.Response:
    return await set_enabled(request, True)


async def disable(request: web.Request) -> web.Response:
    return await set_enabled(request, False)


async def remove(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    record = await _record(gateway, request.match_info["id"])
    await asyncio.to_thread(require_store(gateway).remove, record.id)
    gateway.pool.drop(record.id)
    await _announce(gateway, "removed", record.id)
    return json_reply({"removed": record.id})


async def clear(request: web.Request) -> web.Response:
    """Remove every stored account: ``{"confirm": "remove all"}`` required."""
    gateway = gateway_of(request)
    if (await json_body(request)).get("confirm") != "remove all":
        raise AdminError(
            'Send {"confirm": "remove all"} to remove every account.', code="confirmation_required"
        )
    store = require_store(gateway)
    records = await asyncio.to_thread(store.list)
    for record in records:
        await asyncio.to_thread(store.remove, record.id)
        gateway.pool.drop(record.id)
        await _announce(gateway, "removed", record.id)
    return json_reply({"removed": len(records)})


def _account_for(gateway: Gateway, id_: str, record: AccountRecord | None) -> Account:
    account = gateway.pool.get(id_)
    if account is None and record is not None:
        account = account_from_record(record)
    if account is None:
        raise not_found(f"No account {id_!r}.")
    return account


async def _find(gateway: Gateway, id_: str) -> tuple[Account, AccountRecord | None]:
    record = await asyncio.to_thread(gateway.store.get, id_) if gateway.store is not None else None
    account = _account_for(gateway, record.id if record else id_, record)
    return account, record


async def test(request: web.Request) -> web.Response:
    """Check the account against the upstream's usage endpoint (spends no turn); stored accounts go
    through the same operation as ``gptgate accounts test``."""
    gateway = gateway_of(request)
    account, record = await _find(gateway, request.match_info["id"])
    if record is not None:
        outcome = await ops.test(gateway.accounts, record)
        ok, message = outcome.ok, outcome.message
        if outcome.quota is not None:
            account.quota = outcome.quota
    elif account.status != "active":
        ok, message = False, f"the account is {account.status}"
    else:
        try:
            quota = await gateway.accounts.check(account)
            ok, message = True, f"ok, plan {quota.plan_type or account.plan or 'unknown'}"
        except errors.GatewayError as exc:
            ok, message = False, exc.message
    live = gateway.pool.get(account.id) or account
    return json_reply({"ok": ok, "message": message, "account": account_view(record, live, time.time())})


async def refresh(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    account, record = await _find(gateway, request.match_info["id"])
    if not (account.refresh_token or account.session_token):
        return json_reply({"ok": False, "message": "no refresh or session token to refresh with"})
    if record is not None:
        outcome = await ops.refresh(gateway.accounts, record)
        return json_reply({"ok": outcome.ok, "message": outcome.message})
    result = await gateway.accounts.refresher.refresh(account)
    return json_reply({"ok": result in ("refreshed", "adopted"), "message": str(result)})


ROUTES = [
    ("GET", "/accounts", list_accounts),
    ("POST", "/accounts", add_account),
    ("POST", "/accounts/import", import_accounts),
    ("GET", "/accounts/export", export_accounts),
    ("POST", "/accounts/clear", clear),
    ("POST", "/accounts/{id}/test", test),
    ("POST", "/accounts/{id}/refresh", refresh),
    ("POST", "/accounts/{id}/enable", enable),
    ("POST", "/accounts/{id}/disable", disable),
    ("DELETE", "/accounts/{id}", remove),
]
