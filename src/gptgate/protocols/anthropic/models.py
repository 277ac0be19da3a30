"""``GET /v1/models`` and ``GET /v1/models/{id}`` in Anthropic's shape (client-apis.md §6).

The registry routes here when the request carries ``anthropic-version``. Listed: the
Claude-named models from settings first (Claude Code keeps only ids starting with ``claude``),
then the catalogue's own models (the web upstream's among them); every listed id resolves
through the catalogue, and ``upstream`` says where it is served from (``codex``,
``chatgpt_web``), as on the OpenAI list. Paging with ``limit``, ``after_id`` and ``before_id``
as the Models API does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from aiohttp import web

from gptgate.dispatch.models import ModelCatalog
from gptgate.errors import GatewayError, RequestError
from gptgate.http import gateway_of, json_response
from gptgate.protocols.anthropic.errors import error_response
from gptgate.types import JSONObject

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 1000
_DATE = re.compile(r"^\d{8}$")


def display_name(model_id: str) -> str:
    """``claude-opus-4-8`` -> ``Claude Opus 4.8`` (a date stamp is dropped); other ids as they are."""
    if not model_id.startswith("claude-"):
        return model_id
    words: list[str] = []
    for token in model_id.split("-"):
        if _DATE.match(token):
            continue
        if token.isdigit() and words and words[-1][-1:].isdigit():
            words[-1] += "." + token
        else:
            words.append(token.capitalize() if token.isalpha() else token)
    return " ".join(words) or model_id


def _created_at(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def listed(catalog: ModelCatalog, claude_models: list[str]) -> list[JSONObject]:
    out: list[JSONObject] = []
    seen: set[str] = set()
    for name in claude_models:
        if name in seen:
            continue
        try:
            target = catalog.resolve(name).model
        except GatewayError:
            continue
        info = catalog.info(target)
        seen.add(name)
        out.append(_model(name, display_name(name), info.created if info else 0, _upstream(catalog, name)))
    for info in catalog.models():
        if info.id not in seen:
            seen.add(info.id)
            upstream = info.upstream or catalog.default_upstream
            out.append(_model(info.id, info.display_name or info.id, info.created, upstream))
    return out


def _upstream(catalog: ModelCatalog, name: str) -> str:
    return catalog.resolve(name).upstream or catalog.default_upstream


def _model(model_id: str, name: str, created: int, upstream: str) -> JSONObject:
    return {
        "type": "model",
        "id": model_id,
        "display_name": name,
        "created_at": _created_at(created),
        "upstream": upstream,
    }


def page(models: list[JSONObject], params: Mapping[str, str]) -> JSONObject:
    limit = _limit(params.get("limit"))
    ids = [m["id"] for m in models]
    after, before = params.get("after_id"), params.get("before_id")
    if after is not None:
        start = _position(ids, after, "after_id") + 1
        chunk, has_more = models[start : start + limit], start + limit < len(models)
    elif before is not None:
        end = _position(ids, before, "before_id")
        chunk, has_more = models[max(0, end - limit) : end], end - limit > 0
    else:
        chunk, has_more = models[:limit], limit < len(models)
    return {
        "data": chunk,
        "has_more": has_more,
        "first_id": chunk[0]["id"] if chunk else None,
        "last_id": chunk[-1]["id"] if chunk else None,
    }


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise RequestError(
            f"Invalid value for 'limit': expected an integer from 1 to {MAX_LIMIT}.", param="limit"
        )
    return int(value)


def _position(ids: list[str], model_id: str, param: str) -> int:
    try:
        return ids.index(model_id)
    except ValueError:
        raise RequestError(
            f"Invalid value for '{param}': no listed model '{model_id}'.", param=param
        ) from None


async def list_models(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    gw.refresh_models_soon()
    try:
        return json_response(page(listed(gw.catalog, gw.settings.claude_models), request.query))
    except GatewayError as exc:
        return error_response(exc)


async def get_model(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    name = request.match_info["model"]
    try:
        target = gw.catalog.resolve(name).model
    except GatewayError as exc:
        return error_response(exc)
    found = next((m for m in listed(gw.catalog, gw.settings.claude_models) if m["id"] == name), None)
    if found is None:
        info = gw.catalog.info(target)
        found = _model(name, display_name(name), info.created if info else 0, _upstream(gw.catalog, name))
    return json_response(found)
