"""The ChatGPT web upstream: open a conversation turn, stream it as canonical events, list models.

It talks to one or more operator-supplied gateway base URLs (chat2api's ``CHATGPT_BASE_URL``)
that accept the web protocol; base URLs fail over as the Codex upstream's do (unreachable, no
first byte in time, 5xx, a browser challenge: next base). With ``sentinel`` on, each turn first
makes the requirements call and solves the proof of work in a worker thread (``sentinel.py``);
off (chat2api's ``CONVERSATION_ONLY``), the gateway supplies those tokens itself.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from urllib.parse import urljoin

import orjson

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.canonical.request import CanonicalRequest
from gptgate.canonical.tokens import count_request
from gptgate.files.links import Download, FileLink, LinkSigner
from gptgate.types import JSONObject
from gptgate.upstreams.chatgpt_web import sentinel
from gptgate.upstreams.chatgpt_web.decode import WebStreamDecoder
from gptgate.upstreams.chatgpt_web.encode import (
    CONVERSATION_PATH,
    PATHS,
    ConversationOptions,
    FollowUp,
    build_headers,
    device_id,
    encode_body,
)
from gptgate.upstreams.chatgpt_web.errors import classify
from gptgate.upstreams.chatgpt_web.files import Media, PartKey, Uploaded, Uploader
from gptgate.upstreams.chatgpt_web.models import WebModel, parse_models, resolve
from gptgate.upstreams.egress import PROXY_COOLDOWN, Egress, EgressProxyUnavailable, mask
from gptgate.upstreams.fetch import Fetcher, FetchPolicy
from gptgate.upstreams.stream import DecodedStream
from gptgate.upstreams.transport import ProxyFailed, Transport, TransportResponse

log = logging.getLogger("gptgate.upstream.chatgpt_web")
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)


class ChatGptWebUpstream:
    name = "chatgpt_web"
    times_open = True  # each base, and the sentinel calls before the conversation, are timed here

    def __init__(
        self,
        transport: Transport,
        *,
        base_urls: Sequence[str],
        first_byte_timeout: float,
        conversation_path: str = CONVERSATION_PATH,
        options: ConversationOptions | None = None,
        sentinel_tokens: bool = False,
        pow_hardest: str = sentinel.DEFAULT_HARDEST,
        user_agent: str = DEFAULT_USER_AGENT,
        egress: Egress | None = None,
        uploader: Uploader | None = None,
        links: LinkSigner | None = None,
    ) -> None:
        if conversation_path not in PATHS:
            raise ValueError(f"conversation_path must be one of {sorted(PATHS)}")
        if not base_urls:
            raise ValueError("at least one base URL is needed")
        self._bases = [url.rstrip("/") for url in base_urls]
        self._path = conversation_path
        self._options = options or ConversationOptions()
        self._sentinel = sentinel_tokens
        self._hardest = pow_hardest
        self._agent = user_agent
        self._egress = egress or Egress()
        self._transport = transport
        self._uploader = uploader or Uploader(transport, Fetcher(FetchPolicy()))
        #: signs the download links written for generated images (``files/links.py``)
        self.links = links or LinkSigner(secrets.token_bytes(32))
        self._first_byte_timeout = first_byte_timeout
        self._next = 0
        #: slugs the accounts' ``/backend-api/models`` listed (served beyond the fixed table)
        self.listed: set[str] = set()

    async def open(
        self, request: CanonicalRequest, account: Account, follow_up: FollowUp | None = None
    ) -> DecodedStream:
        model = _web_model(request.model, self.listed)
        media = await self._uploader.read(request)
        proxy = self._egress.proxy_for(account)
        last: errors.UpstreamError | None = None
        for base in self._order():
            headers = self._headers(account, base)
            try:
                uploads = await self._upload(media, account, base, headers, proxy)
                body = orjson.dumps(
                    encode_body(request, model, self._options, follow_up=follow_up, uploads=uploads)
                )
                if self._sentinel:
                    headers.update(await self._sentinel_headers(base, headers, proxy, account))
                resp = await self._post(base + self._path, headers, body, proxy, account)
                if resp.status != 200 or "application/json" in resp.headers.get("content-type", ""):
                    data = await resp.read()
                    await resp.aclose(True)
                    raise classify(
                        resp.status if resp.status != 200 else 502,
                        resp.headers,
                        data,
                        model=model.slug,
                        follow_up=follow_up is not None,
                    )
            except (errors.UpstreamUnavailable, errors.UpstreamTimeout) as exc:
                log.warning("web base %s failed (%s)", mask(base), exc.message)
                last = exc
                continue
            decoder = WebStreamDecoder(
                request.requested_model or request.model,
                input_tokens=count_request(request),
                link=lambda pointer, cid: self.links.url(
                    self.links.sign(self.name, account.id, pointer, cid)
                ),
            )
            resp.forget_headers()  # read: an open stream need not keep them (Cloudflare's are long)
            return DecodedStream(resp, decoder, log, read_after_end=True)  # a late title
        assert last is not None
        raise last

    async def _upload(
        self,
        media: dict[PartKey, Media],
        account: Account,
        base: str,
        headers: dict[str, str],
        proxy: str | None,
    ) -> dict[PartKey, Uploaded]:
        """The request's media uploaded through this base (cached ones are not sent again)."""
        if not media:
            return {}
        try:
            async with asyncio.timeout(self._first_byte_timeout):
                return await self._uploader.upload_all(media, account, base, headers, proxy)
        except errors.GatewayError:
            raise
        except Exception as exc:
            raise _transport_error(exc, account) from exc

    async def download(self, link: FileLink, account: Account) -> Download:
        """A generated file's bytes: its download URL from the backend (with the account's token),
        then the file itself, streamed; neither the URL nor the token reaches the client."""
        scheme, _, file_id = link.pointer.partition("://")
        if scheme == "file-service":
            path = f"/backend-api/files/{file_id}/download"
        elif scheme == "sediment" and link.conversation_id:
            path = f"/backend-api/conversation/{link.conversation_id}/attachment/{file_id}/download"
        else:
            raise errors.NotFoundError("This file cannot be downloaded.")
        proxy = self._egress.proxy_for(account)
        base = self._order()[0]
        headers = {**self._headers(account, base), "accept": "application/json"}
        del headers["content-type"]
        try:
            status, resp_headers, body = await self._transport.get(base + path, headers, proxy)
            if status != 200:
                raise classify(status, resp_headers, body)
            url = orjson.loads(body).get("download_url")
            if not isinstance(url, str) or not url:
                raise errors.UpstreamUnavailable("the web backend gave no download URL")
            resp = await self._transport.request("GET", urljoin(base + "/", url), {}, None, proxy)
        except errors.GatewayError:
            raise
        except Exception as exc:
            raise _transport_error(exc, account) from exc
        if resp.status != 200:
            await resp.aclose(False)
            raise errors.UpstreamUnavailable(f"the file download failed (HTTP {resp.status})")
        length = resp.headers.get("content-length")
        return Download(
            content_type=resp.headers.get("content-type", "application/octet-stream"),
            length=int(length) if length and length.isdigit() else None,
            chunks=resp.chunks(),
            close=resp.aclose,
        )

    def _order(self) -> list[str]:
        """Round robin over the base URLs; each attempt tries every base once."""
        start, self._next = self._next, (self._next + 1) % len(self._bases)
        return self._bases[start:] + self._bases[:start]

    def _headers(self, account: Account, base: str) -> dict[str, str]:
        return build_headers(account, self._options, base_url=base, device_id=device_id(account))

    async def _sentinel_headers(
        self, base: str, headers: dict[str, str], proxy: str | None, account: Account
    ) -> dict[str, str]:
        config = sentinel.browser_config(self._agent)
        p = await asyncio.to_thread(sentinel.requirements_token, config)
        call = {**headers, "accept": "*/*"}
        resp = await self._post(
            base + "/backend-api/sentinel/chat-requirements", call, orjson.dumps({"p": p}), proxy, account
        )
        data = await resp.read()
        await resp.aclose(True)
        if resp.status != 200:
            raise classify(resp.status, resp.headers, data)
        req = sentinel.parse_requirements(orjson.loads(data))
        if req.arkose_required:
            raise errors.AccountForbidden(
                "the web backend demands an Arkose token (the gateway's job)", code="arkose_required"
            )
        if req.token is None:
            raise errors.UpstreamUnavailable("the requirements call returned no token")
        proof = None
        if req.proof_required and req.seed is not None and req.difficulty:
            if sentinel.too_hard(req.difficulty, self._hardest):
                raise errors.AccountForbidden(
                    f"proof-of-work difficulty too high: {req.difficulty}", code="pow_too_hard"
                )
            proof = await asyncio.to_thread(sentinel.proof_token, req.seed, req.difficulty, config)
            if proof is None:
                raise errors.AccountForbidden("failed to solve the proof of work", code="pow_unsolved")
        return sentinel.sentinel_headers(req.token, proof)

    async def _post(
        self, url: str, headers: dict[str, str], body: bytes, proxy: str | None, account: Account
    ) -> TransportResponse:
        try:
            async with asyncio.timeout(self._first_byte_timeout):
                return await self._transport.post(url, headers, body, proxy)
        except ProxyFailed as exc:
            log.warning(
                "egress proxy %s of account %s failed: %s", mask(exc.proxy), account.label(), exc.reason
            )
            raise EgressProxyUnavailable(
                f"the account's egress proxy failed: {exc.reason}", retry_after=PROXY_COOLDOWN
            ) from exc
        except TimeoutError as exc:
            raise errors.UpstreamTimeout("the upstream sent no answer in time") from exc
        except Exception as exc:
            raise errors.UpstreamUnavailable(f"cannot reach the upstream ({exc.__class__.__name__})") from exc

    async def list_models(self, account: Account) -> list[JSONObject]:
        """The account's ``/backend-api/models`` (the first base that answers)."""
        proxy = self._egress.proxy_for(account)
        last: Exception | None = None
        for base in self._order():
            headers = {**self._headers(account, base), "accept": "*/*"}
            del headers["content-type"]
            try:
                status, resp_headers, body = await self._transport.get(
                    base + "/backend-api/models", headers, proxy
                )
            except ProxyFailed as exc:
                raise EgressProxyUnavailable(
                    f"the account's egress proxy failed: {exc.reason}", retry_after=PROXY_COOLDOWN
                ) from exc
            except Exception as exc:
                last = exc
                continue
            if status >= 500:
                last = classify(status, resp_headers, body)
                continue
            if status != 200:
                raise classify(status, resp_headers, body)
            models = parse_models(orjson.loads(body))
            self.listed.update(m["slug"] for m in models)
            return models
        raise errors.UpstreamUnavailable(f"no web base URL answered ({last.__class__.__name__})")

    async def close(self) -> None:
        await self._uploader.close()
        await self._transport.close()


def _transport_error(exc: Exception, account: Account) -> errors.UpstreamError:
    if isinstance(exc, ProxyFailed):
        log.warning("egress proxy %s of account %s failed: %s", mask(exc.proxy), account.label(), exc.reason)
        return EgressProxyUnavailable(
            f"the account's egress proxy failed: {exc.reason}", retry_after=PROXY_COOLDOWN
        )
    if isinstance(exc, TimeoutError):
        return errors.UpstreamTimeout("the upstream did not take the files in time")
    return errors.UpstreamUnavailable(f"cannot reach the upstream ({exc.__class__.__name__})")


def _web_model(name: str, listed: set[str]) -> WebModel:
    try:
        model = resolve(name, listed)
    except ValueError as exc:
        raise errors.ModelNotFound(str(exc), param="model") from exc
    if model is None:
        raise errors.ModelNotFound(
            f"The model `{name}` is not served by the ChatGPT web upstream.", param="model"
        )
    return model
