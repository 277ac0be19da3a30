"""``GET /v1/models`` and ``GET /v1/models/{id}`` in OpenAI's shape.

Listed: every catalogue model, then its effort-suffixed names (``gpt-5.5-high``), then the
aliases (``gpt-4o``), each an id a client may send as ``model``.
"""

from __future__ import annotations

from aiohttp import web

from gptgate.dispatch.models import ModelCatalog
from gptgate.http import call_of, gateway_of, json_response
from gptgate.types import JSONObject

Entry = tuple[str, int, str, str]


def model_ids(catalog: ModelCatalog, default_upstream: str = "codex") -> list[Entry]:
    """(id, created, owned_by, upstream) for every name the catalogue resolves."""
    out: list[Entry] = []
    seen: set[str] = set()
    for info in catalog.models():
        upstream = info.upstream or default_upstream
        for name in (info.id, *(f"{info.id}-{e}" for e in info.efforts)):
            if name not in seen:
                seen.add(name)
                owner = "openai" if info.source == "upstream" else "gptgate"
                out.append((name, info.created, owner, upstream))
    created = out[0][1] if out else 0
    for alias in catalog.aliases():
        if alias not in seen:
            seen.add(alias)
            out.append((alias, created, "gptgate", catalog.resolve(alias).upstream or default_upstream))
    return out


def _model(entry: Entry) -> JSONObject:
    """OpenAI's model object; ``upstream`` says where the name is served from."""
    name, created, owner, upstream = entry
    return {"id": name, "object": "model", "created": created, "owned_by": owner, "upstream": upstream}


async def list_models(request: web.Request) -> web.Response:
    """Every model, or under a pinning prefix (``/chatgpt/v1/models``) that upstream's only."""
    gw = gateway_of(request)
    gw.refresh_models_soon()
    pinned = call_of(request).upstream
    entries = [e for e in model_ids(gw.catalog, gw.catalog.default_upstream) if pinned in (None, e[3])]
    return json_response({"object": "list", "data": [_model(e) for e in entries]})


async def get_model(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    name = request.match_info["model"]
    resolved = gw.catalog.resolve(name, call_of(request).upstream)  # ModelNotFound: the middleware
    created = next((c for n, c, _, _ in model_ids(gw.catalog) if n == name), 0)
    return json_response(_model((name, created, "gptgate", resolved.upstream or gw.catalog.default_upstream)))
