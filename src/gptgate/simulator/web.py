"""Routes of the simulated ChatGPT web backend (chatgpt-web-backend.md §1, §2, §4, §6).

=============================================  ==================================================
``POST /backend-api/conversation``             a turn, SSE in delta encoding v1 (``supported_
``POST /backend-api/f/conversation``           encodings: ["v1"]``) or the old snapshot format
                                               (header ``x-sim-web-format: old`` or directive
                                               ``[[sim:web_format old]]``); gizmo turns answer
                                               as the GPT (``g-…``, ``g-p-…``)
``GET  /backend-api/models``                   the web model list for the caller's plan
``POST /backend-api/sentinel/chat-requirements``  ``{"p"}`` -> token + proof-of-work seed/difficulty
=============================================  ==================================================

Directives in the last user message: ``[[sim:web_format old]]``, ``[[sim:web_cap 252]]`` (429
message cap with ``clears_in``), ``[[sim:web_challenge]]`` (403 HTML challenge page),
``[[sim:web_forbidden]]`` (403 JSON), ``[[sim:web_error 413]]`` (that status),
``[[sim:web_reasoning]]`` (a thoughts message first), ``[[sim:web_no_finish]]`` (``[DONE]``
without a finish record), ``[[sim:web_image]]`` (an image-generation result first: a tool
message with a ``sediment://`` pointer whose bytes the attachment download serves),
``[[sim:text deltas=N]]`` (the answer in N text appends, padded as the Codex reply pads it, so
both upstreams stream the same text in the same deltas: the benchmark's web contender). Uploaded
images and files of the last user message are named in the answer ("I see 1 image (64x48).");
the file routes are in ``web_files.py``. With ``WebState.require_sentinel`` on, a turn needs the requirements
token and a proof token that meets the issued difficulty (checked as chat2api solves it).
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from gptgate.simulator.replies import FILLER
from gptgate.simulator.state import STATE_KEY
from gptgate.simulator.validate import Caller, Rejection, authenticate
from gptgate.simulator.web_files import (
    FILES_KEY,
    GENERATED_SIZE,
    FileStore,
    add_file_routes,
    describe,
    generate_image,
)
from gptgate.simulator.web_stream import WebReply, old_body, v1_body

WEB_SLUGS = ("auto", "gpt-4o", "gpt-4o-mini", "gpt-5", "gpt-5-instant", "gpt-5-thinking", "o3", "o4-mini")
FREE_SLUGS = ("auto", "gpt-4o-mini", "gpt-5-instant")
CAP_MESSAGE = "You have sent too many messages to the model. Please try again later."
UNUSUAL = "Unusual activity has been detected from your device. Try again later."
CHALLENGE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<script>window._cf_chl_opt={cType:'managed'};</script></body></html>"
)
_DIRECTIVE = re.compile(r"\[\[sim:(web_[a-z_]+)(?:\s+([^\]]*))?\]\]")
_TEXT_DELTAS = re.compile(r"\[\[sim:text\s+deltas=(\d+)\]\]")


@dataclass
class WebState:
    """The web backend's own state: sentinel tokens issued (token -> seed, difficulty)."""

    require_sentinel: bool = False
    difficulty: str = "0fffff"
    issued: dict[str, tuple[str, str]] = field(default_factory=dict)
    turns: int = 0


WEB_KEY: web.AppKey[WebState] = web.AppKey("gptgate_simulator_web", WebState)


def _json(status: int, body: Any) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def _caller(request: web.Request) -> Caller:
    state = request.app[STATE_KEY]
    return authenticate(
        request.headers, chatgpt=True, require_auth=state.config.require_auth, now=state.now()
    )


async def _read(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise Rejection(400, {"detail": "Invalid JSON body"}) from None


def _directives(body: dict[str, Any]) -> dict[str, str]:
    messages = body.get("messages") or []
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    parts = (last.get("content") or {}).get("parts") or []
    text = " ".join(p for p in parts if isinstance(p, str))
    return {m[1]: (m[2] or "").strip() for m in _DIRECTIVE.finditer(text)}


def _user_text(body: dict[str, Any]) -> str:
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    users = [m for m in messages if (m.get("author") or {}).get("role") == "user"]
    parts = ((users[-1] if users else {}).get("content") or {}).get("parts") or []
    return _TEXT_DELTAS.sub("", _DIRECTIVE.sub("", " ".join(p for p in parts if isinstance(p, str)))).strip()


def _text_deltas(body: dict[str, Any]) -> int | None:
    """N of ``[[sim:text deltas=N]]`` in the last message, if there."""
    messages = body.get("messages") or []
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    parts = (last.get("content") or {}).get("parts") or []
    found = _TEXT_DELTAS.search(" ".join(p for p in parts if isinstance(p, str)))
    return max(1, int(found[1])) if found else None


def _check_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("action") not in ("next", "continue", "variant"):
        raise Rejection(400, {"detail": "Invalid request: action"})
    if not isinstance(body.get("model"), str) or not body.get("parent_message_id"):
        raise Rejection(400, {"detail": "Invalid request: model and parent_message_id are required"})
    messages = body.get("messages")
    if body["action"] == "next" and (not isinstance(messages, list) or not messages):
        raise Rejection(400, {"detail": "Invalid request: messages"})
    return body


def _check_sentinel(request: web.Request, state: WebState) -> None:
    token = request.headers.get("openai-sentinel-chat-requirements-token", "")
    issued = state.issued.pop(token, None)
    proof = request.headers.get("openai-sentinel-proof-token", "")
    if issued is None or not proof_meets(proof, *issued):
        raise Rejection(403, {"detail": UNUSUAL})


def proof_meets(proof: str, seed: str, difficulty: str) -> bool:
    """The check a proof token must pass: ``sha3_512(seed + answer)`` against the difficulty."""
    if not proof.startswith("gAAAAAB"):
        return False
    answer = proof[7:].encode()
    try:
        base64.b64decode(answer, validate=True)
    except ValueError:
        return False
    digest = hashlib.sha3_512(seed.encode() + answer).digest()
    return digest[: len(difficulty)] <= bytes.fromhex(difficulty)


def _faults(directives: dict[str, str], slug: str) -> None:
    if "web_cap" in directives:
        clears_in = int(directives["web_cap"] or 252)
        detail = {"clears_in": clears_in, "code": "model_cap_exceeded", "message": CAP_MESSAGE}
        raise Rejection(429, {"detail": detail})
    if "web_forbidden" in directives:
        raise Rejection(403, {"detail": UNUSUAL})
    if "web_error" in directives:
        status = int(directives["web_error"] or 400)
        raise Rejection(status, {"detail": f"Simulated error {status} for model {slug}"})


async def conversation(request: web.Request) -> web.StreamResponse:
    sim, state = request.app[STATE_KEY], request.app[WEB_KEY]
    try:
        body = _check_body(await _read(request))
        sim.record(request.method, request.path, request.query_string, request.headers, body)
        _caller(request)
        if state.require_sentinel:
            _check_sentinel(request, state)
        directives = _directives(body)
        if "web_challenge" in directives:
            return web.Response(status=403, body=CHALLENGE_PAGE, content_type="text/html")
        _faults(directives, body["model"])
        reply = _reply(body, directives, state, request.app[FILES_KEY])
    except Rejection as rejection:
        return _json(rejection.status, rejection.body)
    old = request.headers.get("x-sim-web-format") == "old" or directives.get("web_format") == "old"
    v1 = "v1" in (body.get("supported_encodings") or ()) and not old
    ids = [str(uuid.UUID(int=state.turns * 16 + n, version=4)) for n in range(4)]
    records = v1_body(reply, ids) if v1 else old_body(reply, ids)
    return web.Response(body=b"".join(records), headers={"content-type": "text/event-stream; charset=utf-8"})


def _reply(body: dict[str, Any], directives: dict[str, str], state: WebState, files: FileStore) -> WebReply:
    mode = body.get("conversation_mode") or {}
    gizmo = mode.get("gizmo_id") if mode.get("kind") == "gizmo_interaction" else None
    if gizmo is not None and not str(gizmo).startswith("g-"):
        raise Rejection(404, {"detail": "Gizmo not found"})
    state.turns += 1
    said = _user_text(body)[:40]
    answer = f"Hello! You said: {said}." if said else "Hello! How can I help you today?"
    answer += describe(files, (body.get("messages") or [{}])[-1])
    if gizmo is not None:
        answer = f"[{gizmo}] {answer}"
    conversation_id = body.get("conversation_id") or str(uuid.UUID(int=state.turns, version=4))
    image = generate_image(files, conversation_id, said) if "web_image" in directives else None
    deltas = _text_deltas(body)
    while deltas is not None and len(answer) < deltas:
        answer += FILLER
    return WebReply(
        conversation_id=conversation_id,
        user_message_id=str((body.get("messages") or [{}])[-1].get("id") or "client-created-root"),
        slug=body["model"],
        answer=answer,
        thoughts="The user greets me; a short answer fits." if "web_reasoning" in directives else None,
        gizmo_id=gizmo,
        finish="web_no_finish" not in directives,
        image=None if image is None else ("sediment://" + image.file_id, *GENERATED_SIZE),
        pieces=deltas or 4,
    )


async def models(request: web.Request) -> web.Response:
    sim = request.app[STATE_KEY]
    sim.record(request.method, request.path, request.query_string, request.headers, None)
    try:
        caller = _caller(request)
    except Rejection as rejection:
        return _json(rejection.status, rejection.body)
    slugs = FREE_SLUGS if caller.plan == "free" else WEB_SLUGS
    listed = [
        {
            "slug": slug,
            "max_tokens": 32767,
            "title": slug.upper(),
            "description": f"Simulated web model {slug}",
            "tags": [],
            "capabilities": {},
            "product_features": {},
        }
        for slug in slugs
    ]
    return _json(200, {"models": listed, "categories": [], "default_model_slug": "auto"})


async def chat_requirements(request: web.Request) -> web.Response:
    sim, state = request.app[STATE_KEY], request.app[WEB_KEY]
    try:
        body = await _read(request)
        sim.record(request.method, request.path, request.query_string, request.headers, body)
        caller = _caller(request)
        if not isinstance(body, dict) or not str(body.get("p") or "").startswith("gAAAAAC"):
            raise Rejection(403, {"detail": UNUSUAL})
    except Rejection as rejection:
        return _json(rejection.status, rejection.body)
    token = "gAAAAAsim-" + uuid.uuid4().hex
    seed = f"0.{len(state.issued) + 1}{state.turns}"
    state.issued[token] = (seed, state.difficulty)
    return _json(
        200,
        {
            "persona": "chatgpt-freeaccount" if caller.plan == "free" else "chatgpt-paid",
            "token": token,
            "proofofwork": {"required": True, "seed": seed, "difficulty": state.difficulty},
            "turnstile": {"required": False},
            "arkose": {"required": False},
        },
    )


def add_web_routes(app: web.Application) -> None:
    app[WEB_KEY] = WebState()
    add_file_routes(app)
    app.router.add_post("/backend-api/conversation", conversation)
    app.router.add_post("/backend-api/f/conversation", conversation)
    app.router.add_get("/backend-api/models", models)
    app.router.add_post("/backend-api/sentinel/chat-requirements", chat_requirements)
