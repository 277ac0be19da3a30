"""The Codex backend's other calls: remote compaction, standalone search, the accounts check.

=============================================  ==================================================
``POST /backend-api/codex/responses/compact``  ``{"output": [...]}``: the thread's user messages,
                                               then one ``compaction`` item whose
                                               ``encrypted_content`` only the calling account
                                               can read back
``POST /v1/responses/compact``                 the same
``POST /backend-api/codex/alpha/search``       ``{"output": "...", "encrypted_output": "..."}``
``GET  /backend-api/wham/accounts/check``      the caller's one workspace
=============================================  ==================================================

Compaction v2 rides on a turn instead (its input ends with ``compaction_trigger``; ``replies.py``
answers one sealed ``compaction`` item). A turn whose input carries a compaction made by another account is refused as the backend
refuses content it cannot decrypt (400 ``invalid_encrypted_content``): that is what makes
"compaction output stays with its account" testable.
"""

from __future__ import annotations

import base64
from typing import Any, Final

from aiohttp import web

from gptgate.simulator.state import STATE_KEY, SimulatorState
from gptgate.simulator.validate import Caller, Rejection, authenticate, decode_body, detail, parse_json

#: the prefix of the simulator's encrypted payloads (Fernet tokens start with ``gAAAAA``)
SEALED: Final = "gAAAAAsim"


def seal(account_id: str, what: str) -> str:
    """An opaque token that names the account that made it (only the simulator reads it)."""
    return SEALED + base64.urlsafe_b64encode(f"{account_id}\n{what}".encode()).decode().rstrip("=")


def sealed_by(token: str) -> str | None:
    """The account that made ``token``, None for anything the simulator did not seal."""
    if not token.startswith(SEALED):
        return None
    raw = token[len(SEALED) :]
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().split("\n", 1)[0]
    except ValueError:
        return None


def check_compactions(body: Any, account_id: str) -> None:
    """Refuse a turn that carries a compaction sealed for another account."""
    items = body.get("input") if isinstance(body, dict) else None
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict) or item.get("type") not in ("compaction", "compaction_summary"):
            continue
        owner = sealed_by(str(item.get("encrypted_content") or ""))
        if owner is not None and owner != account_id:
            raise Rejection(
                400,
                {
                    "error": {
                        "message": "The encrypted content could not be verified.",
                        "type": "invalid_request_error",
                        "param": "input",
                        "code": "invalid_encrypted_content",
                    }
                },
            )


def compaction_requested(body: Any) -> bool:
    """Codex's remote compaction v2 (``x-codex-beta-features: remote_compaction_v2``): a turn
    whose input ends with ``{"type": "compaction_trigger"}`` is answered by one ``compaction``."""
    items = body.get("input") if isinstance(body, dict) else None
    last = items[-1] if isinstance(items, list) and items else None
    return isinstance(last, dict) and last.get("type") == "compaction_trigger"


async def _read(request: web.Request) -> tuple[SimulatorState, Caller, dict[str, Any]]:
    state = request.app[STATE_KEY]
    raw = await request.read()
    body = parse_json(decode_body(raw, request.headers.get("content-encoding", "")))
    state.record(request.method, request.path, request.query_string, request.headers, body)
    caller = authenticate(
        request.headers,
        chatgpt=request.path.startswith("/backend-api/"),
        require_auth=state.config.require_auth,
        now=state.now(),
    )
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise detail("model is required")
    return state, caller, body


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


async def compact(request: web.Request) -> web.Response:
    try:
        state, caller, body = await _read(request)
        if body.get("stream") is not None:
            raise detail("Unsupported parameter: stream")
        items = body.get("input")
        if not isinstance(items, list):
            raise detail("input must be an array")
        check_compactions(body, caller.account_id)
    except Rejection as rejection:
        return _json(rejection.body, rejection.status)
    kept = [
        i for i in items if isinstance(i, dict) and i.get("type") == "message" and i.get("role") == "user"
    ]
    token = seal(caller.account_id, f"compaction:{state.serial_hex()}:{len(items)}")
    return web.json_response(
        {"output": [*kept, {"type": "compaction", "encrypted_content": token}]},
        headers={"x-codex-turn-state": seal(caller.account_id, "turn-state")},
    )


async def search(request: web.Request) -> web.Response:
    try:
        state, caller, body = await _read(request)
    except Rejection as rejection:
        return _json(rejection.body, rejection.status)
    commands = body.get("commands")
    asked = commands.get("search_query") if isinstance(commands, dict) else None
    queries = [q.get("q") for q in asked if isinstance(q, dict)] if isinstance(asked, list) else []
    text = "; ".join(str(q) for q in queries if q) or "the conversation"
    return _json(
        {
            "output": f"Simulated search results for {text}: https://example.com/search (Example Domain).",
            "encrypted_output": seal(caller.account_id, f"search:{state.serial_hex()}"),
        }
    )


async def accounts_check(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    state.record(request.method, request.path, request.query_string, request.headers, None)
    try:
        caller = authenticate(
            request.headers, chatgpt=True, require_auth=state.config.require_auth, now=state.now()
        )
    except Rejection as rejection:
        return _json(rejection.body, rejection.status)
    account = {"id": caller.account_id, "name": None, "profile_picture_url": None, "structure": "personal"}
    return _json({"accounts": [account], "account_ordering": [caller.account_id]})


def add_codex_extra_routes(app: web.Application) -> None:
    app.router.add_post("/backend-api/codex/responses/compact", compact)
    app.router.add_post("/v1/responses/compact", compact)
    app.router.add_post("/backend-api/codex/alpha/search", search)
    app.router.add_get("/backend-api/wham/accounts/check", accounts_check)
