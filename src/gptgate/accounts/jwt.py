"""Read (never verify) the claims of ChatGPT's OAuth JWTs."""

from __future__ import annotations

import base64

import orjson

from gptgate.types import JSONObject

AUTH_CLAIM = "https://api.openai.com/auth"
PROFILE_CLAIM = "https://api.openai.com/profile"


def claims(token: str) -> JSONObject:
    """The payload of a JWT, or ``{}`` when the token is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        value = orjson.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, orjson.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}
