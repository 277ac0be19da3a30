"""Classify what the web backend (or the operator's gateway in front of it) answers instead of
a stream (chatgpt-web-backend.md §4).

* 429 with ``detail.clears_in`` (``model_cap_exceeded``): the account's message cap for this
  model -> ``ModelCapExceeded``, account-scoped, retry after ``clears_in``; a bare 429 ->
  ``UpstreamRateLimited``.
* 401 -> the account's token; 403 JSON -> the account (``AccountForbidden``); 403 HTML
  challenge page (``cf_chl_opt``, ``cf-please-wait``) -> the operator gateway failed its
  challenge, no account would fare better through it -> ``UpstreamUnavailable`` (the next
  base URL is tried).
* 400 (moderation included), 404, 413 -> request-scoped; 404 on a follow-up turn is
  ``conversation_not_found`` (a caller that continues a kept conversation retries once as a
  fresh one).

gptgate sends every turn as a fresh conversation carrying the whole history (``encode_body``
without a ``FollowUp``; history kept or not by ``chatgpt_history``), so no turn depends on a
conversation kept upstream and the follow-up retry has nothing to retry today: a 404 is then
about this request (a GPT id that does not exist, a path the gateway does not serve), goes back
to the client as a 404 ``upstream_not_found`` that says so, and no account is cooled for it.
* 5xx -> ``UpstreamUnavailable``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Final

import orjson

from gptgate import errors
from gptgate.canonical.failures import retry_after_from_message
from gptgate.types import JSONObject

CHALLENGE_MARKS: Final = (
    b"cf_chl_opt",
    b"cf-please-wait",
    b"challenge-platform",
    b"<!DOCTYPE html",
    b"<html",
)


class ModelCapExceeded(errors.UsageLimitReached):
    """The account sent too many messages to one model; other models (and accounts) still serve.

    ``model`` (the web slug, "" when unknown) is never None, so the pool cools only the
    (account, model) pair, for ``retry_after`` = ``clears_in`` seconds.
    """

    code = "model_cap_exceeded"

    def __init__(self, message: str, *, clears_in: float, model: str | None = None) -> None:
        super().__init__(message, resets_at=time.time() + clears_in)
        self.model = model or ""


def _detail(body: bytes) -> tuple[JSONObject, str]:
    """The ``detail`` object (or ``error`` object) and a message for the client."""
    try:
        data = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return {}, body[:300].decode("utf-8", "replace").strip()
    if not isinstance(data, dict):
        return {}, str(data)[:300]
    detail = data.get("detail", data.get("error"))
    if isinstance(detail, dict):
        return detail, str(detail.get("message") or detail.get("code") or "")
    if isinstance(detail, str):
        return {}, detail
    return data, orjson.dumps(data)[:300].decode() if data else ""


def is_challenge(headers: Mapping[str, str], body: bytes) -> bool:
    if "text/html" in headers.get("content-type", ""):
        return True
    head = body[:4096]
    return any(mark in head for mark in CHALLENGE_MARKS)


def classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    model: str | None = None,
    follow_up: bool = False,
) -> errors.UpstreamError:
    """One upstream error, request-, account- or gateway-scoped."""
    if status == 403 and is_challenge(headers, body):
        exc: errors.UpstreamError = errors.UpstreamUnavailable(
            "the web gateway answered with a browser challenge", code="upstream_challenge"
        )
    else:
        detail, message = _detail(body)
        message = message or f"upstream answered HTTP {status}"
        exc = _by_status(status, detail, message, headers, model, follow_up)
    exc.upstream_status = status
    return exc


def _by_status(
    status: int,
    detail: JSONObject,
    message: str,
    headers: Mapping[str, str],
    model: str | None,
    follow_up: bool,
) -> errors.UpstreamError:
    code = str(detail.get("code") or detail.get("type") or "")
    if status == 429:
        return _too_many(detail, message, headers, model)
    if status == 401:
        return errors.AccountUnauthorized(
            f"upstream rejected the account's token: {message}", code=code or None
        )
    if status == 403:
        return errors.AccountForbidden(f"upstream refused the account: {message}", code=code or None)
    if status == 404:
        if follow_up:
            gone = f"the conversation is no longer kept by the web backend: {message}"
            return errors.UpstreamRequestRejected(gone, code="conversation_not_found")
        fresh = f"the web backend found nothing to answer this turn with (HTTP 404): {message}"
        return _with_status(errors.UpstreamRequestRejected(fresh, code=code or "upstream_not_found"), 404)
    if status == 413:
        return _with_status(errors.UpstreamRequestRejected(message, code="request_too_large"), 413)
    if 400 <= status < 500:
        return errors.UpstreamRequestRejected(message, code=code or "upstream_rejected")
    return errors.UpstreamUnavailable(f"upstream answered HTTP {status}: {message}")


def _with_status(exc: errors.UpstreamError, status: int) -> errors.UpstreamError:
    exc.status = status
    return exc


def _too_many(
    detail: JSONObject, message: str, headers: Mapping[str, str], model: str | None
) -> errors.UpstreamError:
    clears_in = detail.get("clears_in")
    if isinstance(clears_in, int | float) and not isinstance(clears_in, bool):
        return ModelCapExceeded(message, clears_in=float(clears_in), model=model)
    retry = _retry_after(headers) or retry_after_from_message(message)
    return errors.UpstreamRateLimited(message, retry_after=retry)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        value = headers.get("retry-after")
        return float(value) if value is not None else None
    except ValueError:
        return None
