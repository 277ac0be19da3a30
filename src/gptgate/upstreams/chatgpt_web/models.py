"""Model names: the API name a client sends -> the web slug, gizmo ids, and ``/backend-api/models``.

The proxies we learned from guess slugs with ordered substring tests, which sends unknown names
(``o4-mini`` in one of them) to the wrong model without a word. Here the mapping is an exact
table plus every slug the account's own ``/backend-api/models`` lists (chatgpt-web-backend.md
§1.5, §6); anything else is not a web model, and the caller says so.

``<model>-gizmo-<id>`` calls a custom GPT (``g-…``) or a Team project (``g-p-…``) with the model
on the left (§1.6): the name is split on the literal ``-gizmo-`` so project ids stay whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from gptgate.types import JSONObject

#: API name -> web slug. Version dots are hyphens in current slugs (``gpt-4-1``, ``gpt-5-4``);
#: the legacy free model answers to ``text-davinci-002-render-sha``.
WEB_SLUGS: Final[dict[str, str]] = {
    "auto": "auto",
    "gpt-3.5-turbo": "text-davinci-002-render-sha",
    "text-davinci-002-render-sha": "text-davinci-002-render-sha",
    "gpt-4": "gpt-4",
    "gpt-4-mobile": "gpt-4-mobile",
    "gpt-4o": "gpt-4o",
    "gpt-4o-mini": "gpt-4o-mini",
    "gpt-4o-canmore": "gpt-4o-canmore",
    "gpt-4.5o": "gpt-4.5o",
    "gpt-4.1": "gpt-4-1",
    "gpt-4.1-mini": "gpt-4-1-mini",
    # the slugs themselves, as the Tokens "ChatGPT" platform lists its models
    "gpt-4-1": "gpt-4-1",
    "gpt-4-1-mini": "gpt-4-1-mini",
    "gpt-4.5": "gpt-4-5",
    "gpt-4-5": "gpt-4-5",
    "gpt-5-pro": "gpt-5-pro",
    # Tokens' name for gpt-4o with image generation (the web model makes images itself)
    "gpt-4o-image": "gpt-4o",
    "o1": "o1",
    "o1-mini": "o1-mini",
    "o1-preview": "o1-preview",
    "o1-pro": "o1-pro",
    "o3": "o3",
    "o3-pro": "o3-pro",
    "o3-mini": "o3-mini",
    "o3-mini-high": "o3-mini-high",
    "o3-mini-medium": "o3-mini-medium",
    "o3-mini-low": "o3-mini-low",
    "o4-mini": "o4-mini",
    "o4-mini-high": "o4-mini-high",
    "gpt-5": "gpt-5",
    "gpt-5-instant": "gpt-5-instant",
    "gpt-5-thinking": "gpt-5-thinking",
    "gpt-5-mini": "gpt-5-mini",
}
GIZMO_MARK: Final = "-gizmo-"


@dataclass(slots=True, frozen=True)
class WebModel:
    """What a client's model name asks of the web backend."""

    slug: str
    gizmo_id: str | None = None


def split_gizmo(name: str) -> tuple[str, str | None]:
    """``gpt-4o-gizmo-g-p-abc`` -> (``gpt-4o``, ``g-p-abc``); a name without a gizmo -> (name, None).

    Raises ``ValueError`` when the part after ``-gizmo-`` is not a GPT or project id.
    """
    model, mark, gizmo = name.partition(GIZMO_MARK)
    if not mark:
        return name, None
    if not gizmo.startswith("g-") or len(gizmo) < 3 or not model:
        raise ValueError(f"{name!r}: expected <model>-gizmo-g-<id> or <model>-gizmo-g-p-<id>")
    return model, gizmo


def web_slug(name: str, listed: Iterable[str] = ()) -> str | None:
    """The slug for an API name (no gizmo part): the table, else a slug the account lists."""
    slug = WEB_SLUGS.get(name)
    if slug is not None:
        return slug
    return name if name in frozenset(listed) else None


def resolve(name: str, listed: Iterable[str] = ()) -> WebModel | None:
    """The slug and gizmo of a client's model name, or None when it names no web model.

    Raises ``ValueError`` for a malformed gizmo name (see ``split_gizmo``).
    """
    model, gizmo = split_gizmo(name)
    slug = web_slug(model, listed)
    return None if slug is None else WebModel(slug, gizmo)


def parse_models(body: JSONObject) -> list[JSONObject]:
    """The ``models`` of a ``/backend-api/models`` answer that carry a slug, as listed."""
    models = body.get("models")
    if not isinstance(models, list):
        return []
    return [m for m in models if isinstance(m, dict) and isinstance(m.get("slug"), str) and m["slug"]]


def listed_slugs(body: JSONObject) -> list[str]:
    return [m["slug"] for m in parse_models(body)]
