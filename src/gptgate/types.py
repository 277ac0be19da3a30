"""The small shared vocabulary: JSON shapes and protocol names.

Every module speaks of JSON objects through these aliases, so that the hot path can keep the
plain ``dict`` that orjson produces (no model objects per event) while mypy still knows what is
what.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

JSONObject: TypeAlias = dict[str, Any]
JSONArray: TypeAlias = list[Any]

#: Client protocols (front doors). The value tags request extras with where they came from.
ClientProtocol: TypeAlias = Literal["chat", "responses", "anthropic", "gemini", "images"]

#: Upstream backends.
UpstreamName: TypeAlias = Literal["codex", "chatgpt_web"]
