"""``GET /v1beta/models`` and ``GET /v1beta/models/{model}`` in Gemini's shape (client-apis.md §6).

Listed: the Gemini-named models of ``settings.gemini_models`` (what Gemini clients expect to
pick from), then every catalogue model as ``models/<id>`` (the web upstream's among them). Token
limits are those of the upstream model a name resolves to, when the upstream reported them. Where
a model is served from (``codex``, ``chatgpt_web``) is in its ``description``: Gemini's ``Model``
has no field for it, and google-genai refuses fields it does not know.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

from aiohttp import web

from gptgate.errors import GatewayError, RequestError
from gptgate.gateway import Gateway
from gptgate.http import gateway_of, json_response
from gptgate.protocols.gemini.errors import error_response
from gptgate.types import JSONObject

METHODS: Final = ["generateContent", "streamGenerateContent", "countTokens"]
INPUT_LIMIT: Final = 272_000
OUTPUT_LIMIT: Final = 128_000
PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 1000
_TOKEN_PREFIX: Final = "offset:"


def model_names(gw: Gateway) -> list[str]:
    """Configured Gemini names that resolve (a stale setting is skipped), then the catalogue."""
    names = [n for n in dict.fromkeys(gw.settings.gemini_models) if _resolves(gw, n)]
    seen = set(names)
    names += [m.id for m in gw.catalog.models() if m.id not in seen]
    return names


def _resolves(gw: Gateway, name: str) -> bool:
    try:
        gw.catalog.resolve(name)
    except GatewayError:
        return False
    return True


def model_entry(gw: Gateway, name: str) -> JSONObject:
    """One ``Model``; raises ``ModelNotFound`` for a name the catalogue does not resolve."""
    resolved = gw.catalog.resolve(name)
    target = resolved.model
    info = gw.catalog.info(target)
    upstream = resolved.upstream or gw.catalog.default_upstream
    return {
        "name": f"models/{name}",
        "version": target,
        "displayName": (info.display_name if info and name == target else None) or name,
        "description": f"{name}, served by gptgate with the upstream model {target} from the {upstream} upstream.",
        "inputTokenLimit": (info.context_window if info else None) or INPUT_LIMIT,
        "outputTokenLimit": OUTPUT_LIMIT,
        "supportedGenerationMethods": METHODS,
        "temperature": 1.0,
        "maxTemperature": 2.0,
        "topP": 1.0,
        "thinking": True,
    }


async def list_models(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    gw.refresh_models_soon()
    try:
        size = _page_size(request.query.get("pageSize") or request.query.get("page_size"))
        offset = _offset(request.query.get("pageToken") or request.query.get("page_token"))
    except GatewayError as exc:
        return error_response(exc)
    names = model_names(gw)
    page = names[offset : offset + size]
    body: JSONObject = {"models": [model_entry(gw, n) for n in page]}
    if offset + size < len(names):
        body["nextPageToken"] = _token(offset + size)
    return json_response(body)


async def get_model(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    name = request.match_info["model"].removeprefix("models/")
    try:
        return json_response(model_entry(gw, name))
    except GatewayError as exc:
        return error_response(exc)


def _page_size(value: str | None) -> int:
    if not value:
        return PAGE_SIZE
    try:
        size = int(value)
    except ValueError:
        raise RequestError(f"Invalid value at 'pageSize': '{value}'.", param="pageSize") from None
    return PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        if text.startswith(_TOKEN_PREFIX):
            return max(0, int(text[len(_TOKEN_PREFIX) :]))
    except (binascii.Error, ValueError):
        pass
    raise RequestError(f"Invalid value at 'pageToken': '{token}'.", param="pageToken")
