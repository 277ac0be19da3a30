"""Every front-door route, in one explicit table (no registration by import side effects).

Also the one place that knows which client protocol a request speaks, so that anything going
wrong (a bad key, an unknown path, a handler failure) is answered in that protocol's envelope.
Paths shared by several protocols (``GET /v1/models``) are told apart by the headers each SDK
sends: ``anthropic-version`` for Anthropic, ``x-goog-api-key``/``x-goog-api-client`` for Gemini.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from gptgate.errors import GatewayError
from gptgate.http import api_path
from gptgate.protocols import models as openai_models
from gptgate.protocols import openai_errors
from gptgate.protocols.anthropic import errors as anthropic_errors
from gptgate.protocols.anthropic import models as anthropic_models
from gptgate.protocols.anthropic.routes import count_tokens, messages
from gptgate.protocols.chat.routes import chat_completions
from gptgate.protocols.codex_native import errors as codex_errors
from gptgate.protocols.codex_native import models as codex_models
from gptgate.protocols.codex_native import routes as codex
from gptgate.protocols.codex_native import usage as codex_usage
from gptgate.protocols.gemini import errors as gemini_errors
from gptgate.protocols.gemini import models as gemini_models
from gptgate.protocols.gemini.routes import model_action
from gptgate.protocols.images import routes as images
from gptgate.protocols.responses.routes import responses
from gptgate.protocols.responses.socket import responses_socket
from gptgate.types import ClientProtocol

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Family = Literal["openai", "anthropic", "gemini", "codex"]

#: ``/v1`` is the standard base; no prefix serves clients whose base URL lacks ``/v1``;
#: ``/codex/v1`` and ``/chatgpt/v1`` pin the Codex and web upstreams (seed-compatible).
OPENAI_PREFIXES = ("/v1", "", "/codex/v1", "/chatgpt/v1")
#: google-genai with a custom base URL posts to ``/v1/models/...``; the public API is ``/v1beta``.
GEMINI_PREFIXES = ("/v1beta", "/v1")

ERROR_RESPONSES: dict[Family, Callable[[GatewayError], web.Response]] = {
    "openai": openai_errors.error_response,
    "anthropic": anthropic_errors.error_response,
    "gemini": gemini_errors.error_response,
    "codex": codex_errors.error_response,
}

#: ``GET /models`` and ``GET /models/{model}`` per family: (list handler, get handler).
MODEL_DOORS: dict[Family, tuple[Handler, Handler]] = {
    "openai": (openai_models.list_models, openai_models.get_model),
    "anthropic": (anthropic_models.list_models, anthropic_models.get_model),
    "gemini": (gemini_models.list_models, gemini_models.get_model),
}


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    family: Family | None  # None: decided per request from its headers
    #: the front door of a model turn (usage, limits and metrics count these calls); None for
    #: routes that reach no upstream (model lists, token counts)
    door: ClientProtocol | None = None


def family_of(request: web.Request) -> Family:
    """The protocol a request speaks: by its route, else by the headers its SDK sends."""
    route = _FAMILY_BY_ROUTE.get((request.method, _template(request) or ""))
    if route is not None:
        return route
    headers = request.headers
    if "anthropic-version" in headers:
        return "anthropic"
    if "x-goog-api-key" in headers or "x-goog-api-client" in headers or "key" in request.query:
        return "gemini"
    path = request.path
    if api_path(request, path).startswith(CODEX_ROOT + "/"):
        return "codex"
    if path.startswith("/v1beta/") or ":generateContent" in path or ":streamGenerateContent" in path:
        return "gemini"
    if path.rstrip("/").endswith(("/messages", "/messages/count_tokens")):
        return "anthropic"
    return "openai"


def door_of(request: web.Request) -> ClientProtocol | None:
    """The front door of a model-turn route (None for routes that reach no upstream)."""
    door = _DOOR_BY_ROUTE.get((request.method, _template(request) or ""))
    if door == "gemini" and request.match_info.get("target", "").endswith(":countTokens"):
        return None
    return door


def error_response(request: web.Request, error: GatewayError) -> web.Response:
    return ERROR_RESPONSES[family_of(request)](error)


async def models_list(request: web.Request) -> web.StreamResponse:
    return await MODEL_DOORS.get(family_of(request), MODEL_DOORS["openai"])[0](request)


async def models_get(request: web.Request) -> web.StreamResponse:
    return await MODEL_DOORS.get(family_of(request), MODEL_DOORS["openai"])[1](request)


#: Codex CLI signed in with ChatGPT calls ``{chatgpt_base_url}`` = ``…/backend-api/...``
CODEX_ROOT = "/backend-api"
#: Codex-native paths it touches that gptgate does not serve (answered 404, as Codex tolerates)
CODEX_UNSERVED = (
    ("GET", "/wham/settings/user"),
    ("GET", "/ps/plugins/suggested/{scope:.*}"),
    ("POST", "/ps/mcp"),
)


def codex_routes() -> list[Route]:
    """Codex CLI's own routes (``protocols/codex_native``); the turn's WebSocket is beside them."""
    root = CODEX_ROOT
    table = [
        Route("POST", root + "/codex/responses", codex.responses, "codex", "responses"),
        Route("POST", root + "/codex/responses/compact", codex.compact, "codex", "responses"),
        *(
            Route("POST", p + "/responses/compact", codex.compact, "openai", "responses")
            for p in OPENAI_PREFIXES
        ),
        Route("POST", root + "/codex/alpha/search", codex.search, "codex", "responses"),
        Route("GET", root + "/codex/models", codex_models.list_models, "codex"),
        Route("GET", root + "/wham/usage", codex_usage.wham_usage, "codex"),
        Route("GET", root + "/wham/accounts/check", codex_usage.accounts_check, "codex"),
        Route("GET", root + "/ps/plugins/installed", codex.plugins_page, "codex"),
        Route("GET", root + "/ps/plugins/list", codex.plugins_page, "codex"),
        Route("POST", root + "/codex/analytics-events/events", codex.discard, "codex"),
    ]
    table += [Route(method, root + path, codex.not_found, "codex") for method, path in CODEX_UNSERVED]
    return table


def routes() -> list[Route]:
    table: list[Route] = codex_routes()
    for prefix in OPENAI_PREFIXES:
        table += [
            Route("POST", prefix + "/chat/completions", chat_completions, "openai", "chat"),
            Route("POST", prefix + "/responses", responses, "openai", "responses"),
            # the WebSocket upgrade: each turn on it is a call of its own (closed by the socket)
            Route("GET", prefix + "/responses", responses_socket, "openai"),
            Route("GET", prefix + "/models", models_list, None),
            Route("GET", prefix + "/models/{model}", models_get, None),
            Route("POST", prefix + "/messages", messages, "anthropic", "anthropic"),
            Route("POST", prefix + "/messages/count_tokens", count_tokens, "anthropic"),
            Route("POST", prefix + "/images/generations", images.generations, "openai", "images"),
            Route("POST", prefix + "/images/edits", images.edits, "openai", "images"),
        ]
    # Codex CLI's ChatGPT-login WebSocket (its HTTP POST is the Codex-native routes')
    table.append(Route("GET", "/backend-api/codex/responses", responses_socket, "openai"))
    for prefix in GEMINI_PREFIXES:
        # ``{target}`` is ``model:method``; ``GET /v1/models`` is shared and routed by headers.
        table.append(Route("POST", prefix + "/models/{target}", model_action, "gemini", "gemini"))
        if prefix not in OPENAI_PREFIXES:
            table += [
                Route("GET", prefix + "/models", gemini_models.list_models, "gemini"),
                Route("GET", prefix + "/models/{model}", gemini_models.get_model, "gemini"),
            ]
    return table


def _template(request: web.Request) -> str | None:
    resource = request.match_info.route.resource
    return api_path(request, resource.canonical) if resource is not None else None


_FAMILY_BY_ROUTE: dict[tuple[str, str], Family] = {
    (r.method, r.path): r.family for r in routes() if r.family is not None
}
_DOOR_BY_ROUTE: dict[tuple[str, str], ClientProtocol] = {
    (r.method, r.path): r.door for r in routes() if r.door is not None
}
