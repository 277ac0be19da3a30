"""The Codex upstream: open a turn, stream it as canonical events, list models.

Each request leaves through the account's egress proxy (``Egress``) and goes to the first healthy
base URL (``BaseURLs``). A base that cannot be reached, sends nothing before the first-byte
timeout or answers 5xx is marked down and the next base is tried in the same attempt, each base
once; a 4xx (401, 429, ...) is the request's or the account's and is not failed over. A dead
proxy is the account's failure (``EgressProxyUnavailable``): no other base is tried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Final

import orjson
from yarl import URL

from gptgate import errors
from gptgate.accounts.model import Account, Quota
from gptgate.canonical.request import CanonicalRequest
from gptgate.types import JSONObject
from gptgate.upstreams.base import UnaryReply
from gptgate.upstreams.codex.decode import CodexStreamDecoder
from gptgate.upstreams.codex.encode import AccountHeaders, build_headers, encode_body, user_agent
from gptgate.upstreams.codex.errors import classify
from gptgate.upstreams.codex.quota import parse_quota
from gptgate.upstreams.codex.socket import CodexSocketStream, SocketPool
from gptgate.upstreams.codex.unary import (
    COMPACT_PATH,
    SEARCH_PATH,
    compact_body,
    read_reply,
    search_body,
    unary_headers,
)
from gptgate.upstreams.codex.usage import fetch_usage
from gptgate.upstreams.egress import PROXY_COOLDOWN, BaseURLs, Egress, EgressProxyUnavailable, mask
from gptgate.upstreams.stream import DecodedStream
from gptgate.upstreams.transport import ProxyFailed, Transport, TransportResponse

log = logging.getLogger("gptgate.upstream.codex")
#: an account's rate-limit headers are read into its quota snapshot at most this often (and from
#: every refusal): every answer carries them, and a busy account's figures move by a fraction of
#: a percent a second
QUOTA_EVERY_S: Final = 1.0


class CodexUpstream:
    name = "codex"

    def __init__(
        self,
        transport: Transport,
        *,
        base_url: str,
        originator: str,
        client_version: str,
        first_byte_timeout: float,
        fallback_base_urls: Sequence[str] = (),
        base_down_seconds: float = 30.0,
        egress: Egress | None = None,
        sockets: SocketPool | None = None,
    ) -> None:
        self._transport = transport
        #: the opt-in WebSocket transport (``codex_websocket``); None: HTTP only
        self._sockets = sockets
        self._bases = BaseURLs([base_url, *fallback_base_urls], down_for=base_down_seconds)
        #: built once: aiohttp takes a ``URL`` as it is, a string it parses on every request
        self._urls = tuple(URL(base + "/responses") for base in self._bases.urls)
        #: one base: the dispatcher's first-event deadline covers the POST; several: each is timed
        self.times_open = len(self._urls) > 1
        self._egress = egress or Egress()
        self._originator = originator
        self._version = client_version
        self._agent = user_agent(originator, client_version)
        self._headers = AccountHeaders(originator=originator, version=client_version, agent=self._agent)
        self._first_byte_timeout = first_byte_timeout

    async def quota(self, account: Account) -> Quota:
        """The account's plan and quota windows from the usage endpoint (spends no turn)."""
        proxy = self._egress.proxy_for(account)  # the account's egress, as for its turns
        try:
            return await fetch_usage(self._transport, self._bases.urls[0], account, self._agent, proxy)
        except ProxyFailed as exc:
            raise _proxy_error(exc, account) from exc

    async def open(self, request: CanonicalRequest, account: Account) -> DecodedStream | CodexSocketStream:
        body = orjson.dumps(encode_body(request))
        headers = build_headers(request, self._headers.of(account))
        proxy = self._egress.proxy_for(account)
        order = self._bases.order()
        sockets = self._sockets
        if sockets is not None and not sockets.unsupported:
            stream = await sockets.open(
                str(self._urls[order[0]]), headers, body, proxy, account, request.model
            )
            if stream is not None:
                return stream
        if self.times_open:
            resp = await self._failover(order, self._urls, headers, body, proxy, account, True)
        else:  # one base, the usual: awaited here, one coroutine less on every resumption
            try:
                resp = await self._transport.post(self._urls[0], headers, body, proxy)
            except ProxyFailed as exc:
                raise _proxy_error(exc, account) from exc
            except Exception as exc:  # as _failover ends on its last base (marks nothing: one base)
                raise _unreachable(exc) from exc
        now = time.time()
        if resp.status != 200 or now - account.quota.updated_at >= QUOTA_EVERY_S:
            quota = parse_quota(resp.headers, now)
            if quota is not None:
                account.quota = quota
        if resp.status != 200:
            data = await resp.read()
            await resp.aclose(True)
            raise classify(resp.status, resp.headers, data)
        resp.forget_headers()  # read above; the stream reads only its body from here
        return DecodedStream(resp, CodexStreamDecoder(request.model), log)

    async def compact(self, body: JSONObject, headers: Mapping[str, str], account: Account) -> UnaryReply:
        """Remote compaction of a thread's history on ``account`` (``unary.py``)."""
        return await self._unary(COMPACT_PATH, compact_body(body), headers, account)

    async def search(self, body: JSONObject, headers: Mapping[str, str], account: Account) -> UnaryReply:
        """Codex's standalone web search on ``account`` (``unary.py``)."""
        return await self._unary(SEARCH_PATH, search_body(body), headers, account)

    async def _unary(self, path: str, body: bytes, client: Mapping[str, str], account: Account) -> UnaryReply:
        """One unary call with the same base failover as a turn (a 4xx is not failed over)."""
        headers = unary_headers(
            account, client, originator=self._originator, version=self._version, agent=self._agent
        )
        proxy = self._egress.proxy_for(account)
        urls = [base + path for base in self._bases.urls]
        resp = await self._failover(self._bases.order(), urls, headers, body, proxy, account, True)
        return await read_reply(resp)

    async def _failover(
        self,
        order: Sequence[int],
        urls: Sequence[str | URL],
        headers: dict[str, str],
        body: bytes,
        proxy: str | None,
        account: Account,
        timed: bool,
    ) -> TransportResponse:
        """POST to the bases in ``order`` (``urls`` by base index): one that cannot be reached,
        times out or answers 5xx is marked down and the next is tried; the first other answer
        (or the last base's) is returned. ``timed``: each POST is bounded by the first-byte
        timeout here (else by the caller's). The transport's awaitable is awaited right here, no
        coroutine between (each layer costs every resumption of the request)."""
        post = self._transport.post
        for index in order:
            try:
                if timed:
                    async with asyncio.timeout(self._first_byte_timeout):
                        resp = await post(urls[index], headers, body, proxy)
                else:
                    resp = await post(urls[index], headers, body, proxy)
            except ProxyFailed as exc:
                raise _proxy_error(exc, account) from exc
            except Exception as exc:  # aiohttp/curl errors: the upstream is unreachable or timed out
                failure = _unreachable(exc)
                if self._failed(index, order, failure.message):
                    continue
                raise failure from exc
            if resp.status >= 500:
                if self._failed(index, order, f"HTTP {resp.status}"):
                    await resp.aclose(False)
                    continue
            else:
                self._bases.up(index)
            return resp
        raise AssertionError("unreachable: the last base returns or raises")

    def _failed(self, index: int, order: Sequence[int], why: str) -> bool:
        """Mark a base down; True when another base is left to try in this attempt."""
        self._bases.down(index)
        if index == order[-1]:
            return False
        log.warning("codex base %s failed (%s); trying the next", mask(self._bases.urls[index]), why)
        return True

    async def list_models(self, account: Account) -> list[JSONObject]:
        headers = {
            "authorization": "Bearer " + account.access_token,
            "originator": self._originator,
            "user-agent": self._agent,
            "version": self._version,
            "accept": "application/json",
        }
        if account.account_id:
            headers["chatgpt-account-id"] = account.account_id
        proxy = self._egress.proxy_for(account)
        bases = self._bases
        order = bases.order()
        for index in order:
            url = f"{bases.urls[index]}/models?client_version={self._version}"
            try:
                status, resp_headers, body = await self._transport.get(url, headers, proxy)
            except ProxyFailed as exc:
                raise _proxy_error(exc, account) from exc
            except Exception:
                bases.down(index)
                if index == order[-1]:
                    raise
                continue
            if status < 500:
                bases.up(index)
                break
            bases.down(index)
            if index == order[-1]:
                break
        if status != 200:
            raise classify(status, resp_headers, body)
        models = orjson.loads(body).get("models")
        return [m for m in models or () if isinstance(m, dict) and isinstance(m.get("slug"), str)]

    async def close(self) -> None:
        if self._sockets is not None:
            await self._sockets.close()
        await self._transport.close()


def _unreachable(exc: Exception) -> errors.UpstreamUnavailable | errors.UpstreamTimeout:
    """A failed POST as the error the dispatcher knows (a timeout: no answer in time)."""
    if isinstance(exc, TimeoutError):
        return errors.UpstreamTimeout("the upstream sent no answer in time")
    return errors.UpstreamUnavailable(f"cannot reach the upstream ({exc.__class__.__name__})")


def _proxy_error(exc: ProxyFailed, account: Account) -> EgressProxyUnavailable:
    """Logged with the proxy (password masked); the client sees no proxy address."""
    log.warning("egress proxy %s of account %s failed: %s", mask(exc.proxy), account.label(), exc.reason)
    return EgressProxyUnavailable(
        f"the account's egress proxy failed: {exc.reason}", retry_after=PROXY_COOLDOWN
    )
