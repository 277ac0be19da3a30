"""``GET /backend-api/codex/models``: the gateway's Codex models in Codex's own list shape.

Codex takes each entry's metadata as the model's truth: its system prompt
(``base_instructions``), tool shapes, context window, reasoning levels. Only the upstream knows
those, so an entry is the upstream's own (as the Codex backend reported it when the gateway
read its model list), for every catalogue model the Codex upstream serves. Each exact alias of
such a model (``gpt-5-codex-high``) follows as a hidden copy under the alias's name, its effort
the one the alias names, so ``codex -m gpt-5-codex-high`` works and the picker stays short.

With nothing reported yet the answer is 404, as the backend's own fake gave Codex 0.169 in the
captures: Codex then keeps its bundled catalogue (never a made-up system prompt).
"""

from __future__ import annotations

import hashlib

import orjson
from aiohttp import web

from gptgate.dispatch.models import ModelCatalog
from gptgate.errors import GatewayError, NotFoundError
from gptgate.http import gateway_of
from gptgate.types import JSONObject


def codex_models(catalog: ModelCatalog, upstream: str = "codex") -> list[JSONObject]:
    """The upstream's entries for the catalogue's models, then the aliases' hidden copies."""
    out: list[JSONObject] = []
    for info in catalog.models():
        entry = catalog.reported(info.id)
        if entry is not None and (info.upstream or catalog.default_upstream) == upstream:
            out.append(entry)
    listed = {e["slug"] for e in out}
    for alias in sorted(catalog.aliases()):
        try:
            resolved = catalog.resolve(alias)
        except GatewayError:  # an alias to a model this gateway does not serve
            continue
        entry = catalog.reported(resolved.model)
        if alias in listed or entry is None or resolved.model not in listed:
            continue
        out.append(_alias_entry(alias, entry, resolved.effort))
    return out


def _alias_entry(alias: str, entry: JSONObject, effort: str | None) -> JSONObject:
    copy = {**entry, "slug": alias, "display_name": alias, "visibility": "hide"}
    if effort is not None:
        copy["default_reasoning_level"] = effort
        copy["supported_reasoning_levels"] = [{"effort": effort, "description": f"{effort} (the alias's)"}]
    return copy


async def list_models(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    gateway.refresh_models_soon()
    models = codex_models(gateway.catalog)
    if not models:
        raise NotFoundError("Not Found", code="models_not_reported")
    body = orjson.dumps({"models": models})
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    return web.Response(body=body, content_type="application/json", headers={"ETag": etag})
