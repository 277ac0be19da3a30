"""``GET /v1/models`` and ``GET /v1/models/{id}`` in OpenAI's shape.

Listed: every catalogue model, then its effort-suffixed names (``gpt-5.5-high``), then the
aliases (``gpt-4o``), each an id a client may send as ``model``.
"""

from __future__ import annotations

from aiohttp import web

from gptgate.dispatch.models import ModelCatalog
from gptgate.errors import GatewayError
from gptgate.http import gateway_of, json_response
from gptgate.protocols.openai_errors import error_response
from gptgate.types import JSONObject


def model_ids(catalog: ModelCatalog) -> list[tuple[str, int, str]]:
    """(id, created, owned_by) for every name the catalogue resolves."""
    out: list[tuple[str, int, str]] = []
    seen: set[str] = set()
    for info in catalog.models():
        for name in (info.id, *(f"{info.id}-{e}" for e in info.efforts)):
            if name not in seen:
                seen.add(name)
                out.append((name, info.created, "openai" if info.source == "upstream" else "gptgate"))
    created = out[0][1] if out else 0
    for alias in catalog.aliases():
        if alias not in seen:
            seen.add(alias)
            out.append((alias, created, "gptgate"))
    return out


def _model(entry: tuple[str, int, str]) -> JSONObject:
    name, created, owner = entry
    return {"id": name, "object": "model", "created": created, "owned_by": owner}


async def list_models(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    gw.refresh_models_soon()
    return json_response({"object": "list", "data": [_model(e) for e in model_ids(gw.catalog)]})


async def get_model(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    name = request.match_info["model"]
    try:
        gw.catalog.resolve(name)
    except GatewayError as exc:
        return error_response(exc)
    created = next((c for n, c, _ in model_ids(gw.catalog) if n == name), 0)
    return json_response(_model((name, created, "gptgate")))
