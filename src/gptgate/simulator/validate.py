"""What the real backend refuses (protocol §2.4, §4.2, §7): body encoding, auth, request fields.

Every refusal is a :class:`Rejection` carrying the status and the exact JSON body to send.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import zstandard

from gptgate.simulator.tokens import account_of, decode_jwt_claims, signature_valid

FORBIDDEN_PARAMS = frozenset(
    {
        "max_output_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "truncation",
        "user",
        "context_management",
        "prompt_cache_retention",
        "safety_identifier",
        "stream_options",
        "previous_response_id",
        "metadata",
        "stop",
        "n",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "logprobs",
        "top_logprobs",
    }
)
EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra"})
MAX_BODY_BYTES = 256 * 1024 * 1024
TOKEN_EXPIRED = "Provided authentication token is expired. Please try signing in again."
ACCOUNT_DEACTIVATED = (
    "Your OpenAI account has been deactivated, please check your email for more information. "
    "If you feel this is an error, contact us through our help center at help.openai.com."
)
_ZSTD = zstandard.ZstdDecompressor()


@dataclass
class Rejection(Exception):
    """A refusal: HTTP ``status`` with JSON ``body`` (and extra ``headers``)."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Caller:
    account_id: str
    plan: str


def detail(message: str, status: int = 400) -> Rejection:
    return Rejection(status, {"detail": message})


def auth_error(message: str, code: str, status: int = 401) -> Rejection:
    return Rejection(status, {"error": {"message": message, "code": code}})


def deactivated_error() -> Rejection:
    """What a deactivated account gets on every backend call (not in the protocol doc; the
    public API's ``account_deactivated`` code in the backend's 401 envelope)."""
    return auth_error(ACCOUNT_DEACTIVATED, "account_deactivated")


# -- body ------------------------------------------------------------------------------------
def decode_body(raw: bytes, content_encoding: str) -> bytes:
    """Undo ``content-encoding`` (zstd, gzip, deflate, identity)."""
    encoding = content_encoding.strip().lower()
    try:
        if encoding in ("", "identity"):
            return raw
        if encoding == "zstd":
            return _ZSTD.decompressobj().decompress(raw)
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(raw)
        if encoding == "deflate":
            return zlib.decompress(raw)
    except (zstandard.ZstdError, OSError, EOFError, zlib.error) as exc:
        raise detail(f"Could not decode {encoding} request body: {exc}") from exc
    raise detail(f"Unsupported content-encoding: {content_encoding}", status=415)


def parse_json(data: bytes) -> Any:
    """The JSON value of ``data``, or None when it is empty or not JSON."""
    if not data:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


# -- auth ------------------------------------------------------------------------------------
def bearer_token(headers: Mapping[str, str]) -> str:
    value = headers.get("authorization", "")
    return value[7:].strip() if value[:7].lower() == "bearer " else ""


def _unchecked_caller(headers: Mapping[str, str], token: str) -> Caller:
    claims = decode_jwt_claims(token) if token else None
    account, plan = account_of(claims) if claims is not None else (None, "plus")
    return Caller(headers.get("chatgpt-account-id") or account or "sim-account", plan)


def _api_key_caller(token: str) -> Caller:
    return Caller("apikey-" + hashlib.sha256(token.encode()).hexdigest()[:12], "api")


def authenticate(headers: Mapping[str, str], *, chatgpt: bool, require_auth: bool, now: float) -> Caller:
    """The caller's account, or a 401/403 :class:`Rejection`.

    ``chatgpt`` (the ``/backend-api`` paths) requires a JWT whose ``chatgpt_account_id`` equals
    the ``chatgpt-account-id`` header; on ``/v1`` an opaque API key is also accepted. A JWT with
    a foreign signature or a past ``exp`` gets the documented "expired/invalid" 401 (§4.2).
    """
    token = bearer_token(headers)
    if not require_auth:
        return _unchecked_caller(headers, token)
    if not token:
        raise auth_error("Missing bearer token in the Authorization header.", "missing_authorization")
    claims = decode_jwt_claims(token)
    if claims is None:
        if not chatgpt:
            return _api_key_caller(token)
        raise auth_error(
            "Could not parse your authentication token. Please try signing in again.", "invalid_token"
        )
    exp = claims.get("exp")
    if not signature_valid(token) or not isinstance(exp, int | float) or exp <= now:
        raise auth_error(TOKEN_EXPIRED, "token_expired")
    account, plan = account_of(claims)
    header_account = headers.get("chatgpt-account-id")
    if not chatgpt:
        return Caller(account or header_account or "sim-account", plan)
    if account is None:
        raise auth_error("The access token carries no chatgpt_account_id.", "invalid_token")
    if header_account != account:
        message = f"chatgpt-account-id {header_account!r} does not match the access token's account."
        raise auth_error(message, "account_mismatch", status=403)
    return Caller(account, plan)


# -- request body ----------------------------------------------------------------------------
def _check_input(items: Any) -> None:
    if not isinstance(items, list):
        raise detail("Input must be a list")
    for item in items:
        if not isinstance(item, dict):
            raise detail("Invalid input item: expected an object")
        if item.get("role") == "system":
            raise detail("System messages are not allowed in input; use role developer")


def _check_reasoning(reasoning: Any) -> None:
    if reasoning is None:
        return
    if not isinstance(reasoning, dict):
        raise detail("reasoning must be an object")
    effort = reasoning.get("effort")
    if effort is not None and effort not in EFFORTS:
        error = {
            "type": "invalid_request_error",
            "code": "unsupported_value",
            "param": "reasoning.effort",
            "message": f"Unsupported value: '{effort}' is not supported with this model.",
        }
        raise Rejection(400, {"error": error})


def validate_turn(body: Any, models: frozenset[str]) -> None:
    """Raise a :class:`Rejection` for anything the backend would refuse in a turn request."""
    if not isinstance(body, dict):
        raise detail("Request body must be a JSON object")
    if body.get("stream") is not True:
        raise detail("Stream must be set to true")
    if body.get("store") is not False:
        raise detail("Store must be set to false")
    for name in body:
        if name in FORBIDDEN_PARAMS:
            raise detail(f"Unsupported parameter: {name}")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise detail("Model is required")
    if model not in models:
        raise detail(f"The '{model}' model is not supported when using Codex with a ChatGPT account.")
    _check_input(body.get("input"))
    _check_reasoning(body.get("reasoning"))
