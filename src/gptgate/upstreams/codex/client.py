"""The Codex upstream: open a turn, stream it as canonical events, list models."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import orjson

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.canonical.events import Event
from gptgate.canonical.request import CanonicalRequest
from gptgate.types import JSONObject
from gptgate.upstreams.codex.decode import CodexStreamDecoder
from gptgate.upstreams.codex.encode import build_headers, encode_body, user_agent
from gptgate.upstreams.codex.errors import classify
from gptgate.upstreams.codex.quota import parse_quota
from gptgate.upstreams.transport import Transport, TransportResponse

log = logging.getLogger("gptgate.upstream.codex")


class CodexStream:
    """One streaming answer; see ``UpstreamStream``."""

    __slots__ = ("_closed", "_decoder", "_resp")

    def __init__(self, resp: TransportResponse) -> None:
        self._resp = resp
        self._decoder = CodexStreamDecoder()
        self._closed = False

    async def batches(self) -> AsyncIterator[list[Event]]:
        decoder = self._decoder
        try:
            async for chunk in self._resp.chunks():
                if decoder.terminal is not None:
                    continue  # drain to the end so the connection can be reused
                events = decoder.feed(chunk)
                if events:
                    yield events
            tail = decoder.flush() if decoder.terminal is None else []
        except Exception as exc:  # any transport failure ends the stream in-band
            if decoder.terminal is not None:
                return
            log.warning("upstream stream broke: %s", exc.__class__.__name__)
            tail = [
                decoder.cut(
                    "stream_disconnected",
                    f"upstream stream broke before response.completed ({exc.__class__.__name__})",
                )
            ]
        if tail:
            yield tail

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._resp.aclose(self._decoder.terminal is not None)


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
    ) -> None:
        self._transport = transport
        self._base = base_url.rstrip("/")
        self._url = self._base + "/responses"
        self._originator = originator
        self._version = client_version
        self._agent = user_agent(originator, client_version)
        self._first_byte_timeout = first_byte_timeout

    async def open(self, request: CanonicalRequest, account: Account) -> CodexStream:
        body = orjson.dumps(encode_body(request))
        headers = build_headers(
            request, account, originator=self._originator, version=self._version, agent=self._agent
        )
        try:
            async with asyncio.timeout(self._first_byte_timeout):
                resp = await self._transport.post(self._url, headers, body)
        except TimeoutError as exc:
            raise errors.UpstreamTimeout("the upstream sent no answer in time") from exc
        except Exception as exc:  # aiohttp/curl errors: the upstream is unreachable
            raise errors.UpstreamUnavailable(f"cannot reach the upstream ({exc.__class__.__name__})") from exc
        quota = parse_quota(resp.headers)
        if quota is not None:
            account.quota = quota
        if resp.status != 200:
            data = await resp.read()
            await resp.aclose(True)
            raise classify(resp.status, resp.headers, data)
        return CodexStream(resp)

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
        status, resp_headers, body = await self._transport.get(
            f"{self._base}/models?client_version={self._version}", headers
        )
        if status != 200:
            raise classify(status, resp_headers, body)
        models = orjson.loads(body).get("models")
        return [m for m in models or () if isinstance(m, dict) and isinstance(m.get("slug"), str)]

    async def close(self) -> None:
        await self._transport.close()
