"""chat2api's environment variables, read as aliases of gptgate's own settings.

An operator moving from chat2api keeps its compose file: ``CHATGPT_BASE_URL``, ``AUTHORIZATION``
and the rest are read as the gptgate settings they mean (the README's table maps each). They
rank just below the ``GPTGATE_*`` variables: when both name a setting, the ``GPTGATE_`` one wins;
a config file ranks below both. List values use chat2api's comma-separated form, booleans its
``is_true`` spellings (``true``, ``1``, ``t``, ``y``, ``yes``, any case).

Three of chat2api's switches name behaviour gptgate always has, so they set nothing:
``ENABLE_LIMIT`` (a message cap cools only that account and model, and every account capped is a
429 naming the model), ``SCHEDULED_REFRESH`` (tokens are refreshed ahead of expiry, see
``refresh_before_seconds``) and ``UPLOAD_BY_URL`` (files are content parts: ``image_url`` and
``file`` parts, fetched and uploaded; a URL inside the text stays text).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Final

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

TRUE: Final = frozenset({"true", "1", "t", "y", "yes"})


def is_true(value: str) -> bool:
    """chat2api's reading of a boolean variable."""
    return value.strip().lower() in TRUE


def comma_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _text(value: str) -> str | None:
    return value.strip() or None


def _strategy(value: str) -> str:
    return "random" if is_true(value) else "round_robin"


#: chat2api variable -> (gptgate setting, conversion); None: read, nothing to set
ALIASES: Final[dict[str, tuple[str, Callable[[str], Any]] | None]] = {
    "API_PREFIX": ("api_prefix", _text),
    "AUTHORIZATION": ("api_keys", comma_list),
    "CHATGPT_BASE_URL": ("chatgpt_base_urls", comma_list),
    "PROXY_URL": ("proxies", comma_list),
    "EXPORT_PROXY_URL": ("fetch_proxy", _text),
    "HISTORY_DISABLED": ("chatgpt_history", lambda v: not is_true(v)),
    "RETRY_TIMES": ("retry_times", str.strip),
    "CONVERSATION_ONLY": ("chatgpt_sentinel", lambda v: not is_true(v)),
    "RANDOM_TOKEN": ("pool_strategy", _strategy),
    "AUTH_KEY": ("chatgpt_auth_key", _text),
    "ENABLE_LIMIT": None,
    "SCHEDULED_REFRESH": None,
    "UPLOAD_BY_URL": None,
}


def chat2api_values(environ: Mapping[str, str], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that chat2api's variables in ``environ`` set (only settings in ``fields``)."""
    values: dict[str, Any] = {}
    for name, alias in ALIASES.items():
        raw = environ.get(name)
        if raw is None or alias is None or alias[0] not in fields:
            continue
        setting, convert = alias
        value = convert(raw)
        if value is not None and value != []:
            values[setting] = value
    return values


class Chat2ApiSource(PydanticBaseSettingsSource):
    """A settings source over ``os.environ`` that reads chat2api's variables (see the module)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str] | None = None) -> None:
        super().__init__(settings_cls)
        self._environ = environ if environ is not None else os.environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # the whole answer comes from __call__

    def __call__(self) -> dict[str, Any]:
        return chat2api_values(self._environ, self.settings_cls.model_fields)
