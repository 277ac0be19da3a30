"""Every front-door route, in one explicit table (no registration by import side effects)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from gptgate.protocols.chat.routes import chat_completions
from gptgate.protocols.models import get_model, list_models
from gptgate.protocols.responses.routes import responses

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: ``/v1`` is the standard base; no prefix serves clients whose base URL lacks ``/v1``;
#: ``/codex/v1`` pins the Codex upstream (seed-compatible).
OPENAI_PREFIXES = ("/v1", "", "/codex/v1")


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    protocol: str


def routes() -> list[Route]:
    table: list[Route] = []
    for prefix in OPENAI_PREFIXES:
        table += [
            Route("POST", prefix + "/chat/completions", chat_completions, "chat"),
            Route("POST", prefix + "/responses", responses, "responses"),
            Route("GET", prefix + "/models", list_models, "models"),
            Route("GET", prefix + "/models/{model}", get_model, "models"),
        ]
    return table
