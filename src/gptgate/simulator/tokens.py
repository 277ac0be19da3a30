"""JWTs shaped like the ChatGPT OAuth tokens (protocol §5.3), their signature and decoding.

The tokens are RS256-shaped, but the signature is an HMAC-SHA256 of ``header.payload`` under a
key only the simulator uses (:data:`SIGNING_KEY`), so every token made here verifies and a
token from elsewhere (or edited) does not. The backend checks the signature and ``exp``;
clients never verify, they only read the claims (as the real client does).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import Any

import orjson

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
ISSUER = "https://auth.openai.com"
AUTH_CLAIM = "https://api.openai.com/auth"
PROFILE_CLAIM = "https://api.openai.com/profile"
DEFAULT_LIFETIME_S = 10 * 24 * 3600
SIGNING_KEY = b"gptgate-simulator-signing-key"

_HEADER = {"alg": "RS256", "typ": "JWT", "kid": "sim"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _signature(signing_input: str) -> str:
    return _b64url(hmac.new(SIGNING_KEY, signing_input.encode("ascii"), hashlib.sha256).digest())


def _claims(
    account_id: str, plan: str, exp: int | None, email: str, user_id: str, now: int
) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "aud": ["https://api.openai.com/v1"],
        "sub": f"auth0|{user_id}",
        "iat": now,
        "nbf": now,
        "exp": now + DEFAULT_LIFETIME_S if exp is None else exp,
        "client_id": CLIENT_ID,
        "scp": ["openid", "profile", "email", "offline_access"],
        AUTH_CLAIM: {
            "chatgpt_account_id": account_id,
            "chatgpt_plan_type": plan,
            "chatgpt_user_id": user_id,
            "user_id": user_id,
            "organizations": [
                {"id": f"org-{user_id}", "is_default": True, "role": "owner", "title": "Personal"}
            ],
        },
        PROFILE_CLAIM: {"email": email, "email_verified": True},
    }


def encode_jwt(payload: dict[str, Any]) -> str:
    """Serialise ``payload`` as an RS256-shaped JWT signed with the simulator's key."""
    signing_input = _b64url(orjson.dumps(_HEADER)) + "." + _b64url(orjson.dumps(payload))
    return signing_input + "." + _signature(signing_input)


def signature_valid(token: str) -> bool:
    """Whether ``token`` carries the signature the simulator would have given it."""
    signing_input, _, signature = token.rpartition(".")
    if not signing_input or not signing_input.isascii():
        return False
    return hmac.compare_digest(signature.encode(), _signature(signing_input).encode())


def make_access_token(
    account_id: str,
    *,
    plan: str = "plus",
    exp: int | None = None,
    email: str = "demo@example.com",
    user_id: str = "user-demo",
    issued_at: int | None = None,
) -> str:
    """An access token for ``account_id``; ``exp`` defaults to ``issued_at`` (now) + 10 days."""
    now = int(time.time()) if issued_at is None else issued_at
    return encode_jwt(_claims(account_id, plan, exp, email, user_id, now))


def make_id_token(
    account_id: str,
    *,
    plan: str = "plus",
    exp: int | None = None,
    email: str = "demo@example.com",
    user_id: str = "user-demo",
    issued_at: int | None = None,
) -> str:
    """An id token with the same claims (what ``auth.json`` imports read) plus top-level email."""
    now = int(time.time()) if issued_at is None else issued_at
    claims = _claims(account_id, plan, exp, email, user_id, now)
    claims["email"] = email
    claims["aud"] = [CLIENT_ID]
    return encode_jwt(claims)


def decode_jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT-shaped token, or None when ``token`` is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = orjson.loads(_b64url_decode(parts[1]))
    except (binascii.Error, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def account_of(claims: dict[str, Any]) -> tuple[str | None, str]:
    """(chatgpt_account_id, plan type) from decoded claims; plan defaults to ``plus``."""
    auth = claims.get(AUTH_CLAIM)
    if not isinstance(auth, dict):
        return None, "plus"
    account = auth.get("chatgpt_account_id")
    plan = auth.get("chatgpt_plan_type")
    return (account if isinstance(account, str) else None, plan if isinstance(plan, str) else "plus")
