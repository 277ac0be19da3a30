"""The error tree. Each error owns its HTTP status and a protocol-neutral outward form.

::

    GatewayError                      status, type, code, param, message, headers
    ├── RequestError                  the client's request is wrong (400)
    │   ├── UnsupportedFeature        valid, but this gateway/upstream cannot serve it (400)
    │   ├── PayloadTooLarge           body over the limit (413)
    │   └── ModelNotFound             no such model (404)
    ├── AuthenticationError           missing or wrong gateway API key (401)
    ├── PermissionDenied              the client key may not do this (model, upstream, effort) (403)
    ├── KeyLimitExceeded              a client key's own limit: rpm, tpm, concurrency, budget (429)
    ├── NotFoundError                 no such route/object (404)
    └── UpstreamError                 the upstream refused or failed
        ├── AccountError              credential-scoped: try another account
        │   ├── UsageLimitReached     429 plan quota, resets at a known time
        │   ├── AccountUnauthorized   401 from upstream (token expired/revoked)
        │   └── AccountForbidden      403 / plan without access / deactivated
        ├── UpstreamRequestRejected   request-scoped 4xx from upstream (return to client)
        ├── UpstreamUnavailable       5xx, overload, network failure (retry, then 502/503)
        ├── UpstreamTimeout           no first byte in time (504)
        ├── UpstreamRateLimited       429 that is not a plan quota (retryable)
        ├── PoolExhausted             every account is cooling down (429 + Retry-After)
        └── NoUsableAccount           every account is disabled or needs re-login (503)

Front doors render these into their own envelopes (OpenAI, Anthropic, Gemini); nothing here
knows about any client protocol. Request-scoped vs credential-scoped is the split the
dispatcher acts on: an ``AccountError`` before the first byte moves the request to another
account, anything else goes back to the client.
"""

from __future__ import annotations

import math
import time


class GatewayError(Exception):
    status: int = 500
    type: str = "api_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))}


class RequestError(GatewayError):
    status = 400
    type = "invalid_request_error"


class UnsupportedFeature(RequestError):
    code = "unsupported_parameter"


class PayloadTooLarge(RequestError):
    status = 413
    code = "request_too_large"


class ModelNotFound(RequestError):
    status = 404
    code = "model_not_found"


class AuthenticationError(GatewayError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class PermissionDenied(GatewayError):
    status = 403
    type = "permission_error"
    code = "permission_denied"


class KeyLimitExceeded(GatewayError):
    """A client key over one of its own limits (never the pool's: that is ``PoolExhausted``)."""

    status = 429
    type = "rate_limit_exceeded"
    code = "rate_limit_exceeded"


class NotFoundError(GatewayError):
    status = 404
    type = "not_found_error"
    code = "not_found"


class UpstreamError(GatewayError):
    status = 502
    type = "upstream_error"
    retryable: bool = False
    upstream_status: int | None = None


class AccountError(UpstreamError):
    """Credential-scoped: the account is the problem, another account may serve the request."""

    status = 503
    type = "upstream_account_error"


class UsageLimitReached(AccountError):
    #: set when the limit is one model's only (the web upstream's message caps): then only that
    #: (account, model) pair cools down, and the account keeps serving other models
    model: str | None = None
    status = 429
    type = "rate_limit_exceeded"
    code = "usage_limit_reached"

    def __init__(self, message: str, *, resets_at: float | None, plan_type: str | None = None) -> None:
        wait = None if resets_at is None else max(1.0, resets_at - time.time())
        super().__init__(message, retry_after=wait)
        self.resets_at = resets_at
        self.plan_type = plan_type


class AccountUnauthorized(AccountError):
    status = 503
    code = "upstream_account_unauthorized"


class AccountForbidden(AccountError):
    status = 403
    type = "permission_error"
    code = "upstream_account_forbidden"


class UpstreamRequestRejected(UpstreamError):
    """Request-scoped 4xx: the upstream refused this request; another account would too."""

    status = 400
    type = "invalid_request_error"


class UpstreamUnavailable(UpstreamError):
    status = 502
    code = "upstream_unavailable"
    retryable = True


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "upstream_timeout"
    retryable = True


class UpstreamRateLimited(UpstreamError):
    status = 429
    type = "rate_limit_exceeded"
    code = "rate_limit_exceeded"
    retryable = True


class PoolExhausted(UpstreamError):
    status = 429
    type = "rate_limit_exceeded"
    code = "pool_exhausted"


class NoUsableAccount(UpstreamError):
    """No account can serve until an operator acts (re-login, enable): not worth retrying soon."""

    status = 503
    code = "no_usable_account"
