"""The sentinel exchange, for operator gateways that do not supply the tokens themselves.

Before a conversation POST the web app asks ``POST {base}/backend-api/sentinel/chat-requirements``
with ``{"p": <requirements token>}`` and gets ``{"token", "persona", "proofofwork": {"required",
"seed", "difficulty"}, "turnstile": {...}, "arkose": {...}}``; the conversation then carries
``openai-sentinel-chat-requirements-token`` and ``openai-sentinel-proof-token``. Turnstile and
Arkose stay the gateway's job: we send no Turnstile token and refuse an Arkose demand.

The proof of work is the one chat2api computes (``chatgpt/proofofWork.py``, same at e8a2fbb and
6ba06de; facts, not code): a 15-element browser "config" array is serialised as compact JSON,
with element 3 set to the attempt number ``i`` and element 9 to ``i >> 1``, base64-encoded;
the answer is the first encoding whose ``sha3_512(seed + encoding)`` starts with bytes that
compare at most the difficulty's bytes, within 500,000 attempts. Tokens are ``gAAAAAB`` +
answer (proof) and ``gAAAAAC`` + answer (requirements, a random seed at difficulty ``0fffff``).
chat2api compares ``digest[:len(difficulty)]`` (hex length, twice the byte length) with the
difficulty's bytes, which is the same as "the first bytes are strictly below the difficulty";
``meets`` keeps that exact rule, so a solver and a checker agree with chat2api to the bit.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from gptgate.types import JSONObject

MAX_ATTEMPTS: Final = 500_000
REQUIREMENTS_DIFFICULTY: Final = "0fffff"
PROOF_PREFIX: Final = "gAAAAAB"
REQUIREMENTS_PREFIX: Final = "gAAAAAC"
#: What chat2api sends when no answer was found in time (the server then refuses the turn).
UNSOLVED_MARK: Final = "wQ8Lk5FbGpA2NcR9dShT6gYjU7VxZ4D"
#: chat2api's ``POW_DIFFICULTY`` default: a difficulty at or below this is too hard to try.
DEFAULT_HARDEST: Final = "000032"
DEFAULT_SCRIPT: Final = "https://cdn.oaistatic.com/_next/static/chunks/main.js"
DEFAULT_BUILD: Final = "c/gptgate/_"
_CORES: Final = (16, 24, 32)
_SCREENS: Final = (3000, 4000, 6000)
_NAVIGATOR: Final = ("webdriver−false", "hardwareConcurrency−32", "cookieEnabled−true", "product−Gecko")
_DOCUMENT: Final = ("location",)
_WINDOW: Final = ("window", "document", "navigator", "location", "chrome", "__NEXT_DATA__")
_EST: Final = timezone(timedelta(hours=-5))


def browser_config(
    user_agent: str,
    *,
    rng: random.Random | None = None,
    now: datetime | None = None,
    perf: float | None = None,
    uid: str | None = None,
    script: str = DEFAULT_SCRIPT,
    build: str = DEFAULT_BUILD,
) -> list[Any]:
    """The 15-element config array (tests pin ``rng``, ``now``, ``perf`` and ``uid``)."""
    rng = rng or random.Random()
    moment = (now or datetime.now(_EST)).astimezone(_EST)
    parse_time = moment.strftime("%a %b %d %Y %H:%M:%S") + " GMT-0500 (Eastern Standard Time)"
    return [
        rng.choice(_CORES) + rng.choice(_SCREENS),
        parse_time,
        4294705152,
        0,  # the attempt number
        user_agent,
        script,
        build,
        "en-US",
        "en-US,es-US,en,es",
        0,  # half the attempt number
        rng.choice(_NAVIGATOR),
        rng.choice(_DOCUMENT),
        rng.choice(_WINDOW),
        time.perf_counter() if perf is None else perf,
        uid or str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    ]


def _compact(value: list[Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def meets(digest: bytes, difficulty: str) -> bool:
    """chat2api's acceptance rule (see the module docstring)."""
    return digest[: len(difficulty)] <= bytes.fromhex(difficulty)


def solve(seed: str, difficulty: str, config: list[Any], max_attempts: int = MAX_ATTEMPTS) -> str | None:
    """The base64 answer, or None when no attempt below ``max_attempts`` meets the difficulty.

    The JSON around the two attempt numbers is built once; each attempt costs one base64 and
    one SHA3-512 of about 600 bytes (chat2api's loop, same output).
    """
    head = (_compact(config[:3])[:-1] + ",").encode()
    middle = ("," + _compact(config[4:9])[1:-1] + ",").encode()
    tail = ("," + _compact(config[10:])[1:]).encode()
    prefix, target = seed.encode(), bytes.fromhex(difficulty)
    size = len(difficulty)
    for i in range(max_attempts):
        answer = base64.b64encode(head + str(i).encode() + middle + str(i >> 1).encode() + tail)
        if hashlib.sha3_512(prefix + answer).digest()[:size] <= target:
            return answer.decode()
    return None


def proof_token(
    seed: str, difficulty: str, config: list[Any], max_attempts: int = MAX_ATTEMPTS
) -> str | None:
    """``openai-sentinel-proof-token``: ``gAAAAAB`` + answer, or None when unsolved."""
    answer = solve(seed, difficulty, config, max_attempts)
    return None if answer is None else PROOF_PREFIX + answer


def requirements_token(config: list[Any], seed: str | None = None) -> str:
    """The ``p`` of the requirements call: a cheap proof over a random seed (``0fffff``)."""
    seed = seed if seed is not None else repr(random.random())
    answer = solve(seed, REQUIREMENTS_DIFFICULTY, config)
    if answer is None:  # as chat2api: the marker plus the seed, the server decides
        answer = UNSOLVED_MARK + base64.b64encode(f'"{seed}"'.encode()).decode()
    return REQUIREMENTS_PREFIX + answer


def decode_answer(token: str) -> list[Any] | None:
    """The config array inside a proof or requirements token (what a checker reads back)."""
    for prefix in (PROOF_PREFIX, REQUIREMENTS_PREFIX):
        if token.startswith(prefix):
            try:
                value = json.loads(base64.b64decode(token[len(prefix) :], validate=True))
            except ValueError:
                return None
            return value if isinstance(value, list) else None
    return None


def too_hard(difficulty: str, hardest: str = DEFAULT_HARDEST) -> bool:
    """A lower hex difficulty is harder; chat2api refuses at or below ``POW_DIFFICULTY``."""
    return difficulty.lower() <= hardest.lower()


@dataclass(slots=True, frozen=True)
class Requirements:
    """What the requirements call answered (only what a conversation needs)."""

    token: str | None
    persona: str | None = None
    proof_required: bool = False
    seed: str | None = None
    difficulty: str | None = None
    turnstile_required: bool = False
    arkose_required: bool = False


def _section(body: JSONObject, key: str) -> JSONObject:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def parse_requirements(body: JSONObject) -> Requirements:
    pow_ = _section(body, "proofofwork")
    token, persona = body.get("token"), body.get("persona")
    return Requirements(
        token=token if isinstance(token, str) and token else None,
        persona=persona if isinstance(persona, str) else None,
        proof_required=bool(pow_.get("required")),
        seed=str(pow_["seed"]) if pow_.get("seed") is not None else None,
        difficulty=str(pow_["difficulty"]) if pow_.get("difficulty") is not None else None,
        turnstile_required=bool(_section(body, "turnstile").get("required")),
        arkose_required=bool(_section(body, "arkose").get("required")),
    )


def sentinel_headers(chat_token: str, proof: str | None) -> dict[str, str]:
    headers = {"openai-sentinel-chat-requirements-token": chat_token}
    if proof is not None:
        headers["openai-sentinel-proof-token"] = proof
    return headers
