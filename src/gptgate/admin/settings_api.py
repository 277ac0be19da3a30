"""``GET /admin/api/settings``: every setting, read-only, with every secret masked.

A secret (``SecretStr``, alone or in a list) is shown only as ``"set"`` / ``"not set"`` (a list as
how many are set); proxy URLs lose their passwords. Nothing here can change a setting: they come
from flags, ``GPTGATE_*`` and the config file, and take effect on restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from gptgate.accounts.ops import redact_url
from gptgate.admin.errors import json_reply
from gptgate.http import gateway_of
from gptgate.settings import Settings


def masked(name: str, value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "set"
    if isinstance(value, list) and value and all(isinstance(v, SecretStr) for v in value):
        return f"{len(value)} set"
    if name in ("proxies", "codex_base_urls") and isinstance(value, list):
        return [redact_url(str(v)) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def settings_view(settings: Settings) -> list[dict[str, Any]]:
    rows = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        secret = field.annotation is not None and "SecretStr" in str(field.annotation)
        shown = (
            ("set" if value else "not set") if secret and not isinstance(value, list) else masked(name, value)
        )
        rows.append(
            {
                "name": name,
                "env": f"GPTGATE_{name.upper()}",
                "value": shown,
                "secret": secret,
                "description": field.description or "",
            }
        )
    return rows


async def get_settings(request: web.Request) -> web.Response:
    return json_reply({"settings": settings_view(gateway_of(request).settings)})


ROUTES = [("GET", "/settings", get_settings)]
