"""Images and files of a request, uploaded to the web backend (chatgpt-web-backend.md §3.1).

Each ``input_image`` / ``input_file`` part is first read to bytes (a base64 ``data:`` URL, or a
remote URL through :mod:`gptgate.upstreams.fetch`), then uploaded with the account's token and
egress proxy in three calls: create (``POST /backend-api/files``), the bytes to the signed blob
URL it returns (``PUT``, not under the base URL, retried as chat2api does), then ``…/uploaded``.
A document the retrieval index takes (``my_files``) is polled until indexed, a bounded number of
times. Uploads are remembered per account by SHA-256 of the bytes (bounded LRU), so a
conversation that replays its history each turn uploads each image once; fetched URLs are
remembered for a few minutes for the same reason.

All of this runs inside the upstream's ``open()``, before the conversation POST: a failure is a
pre-first-byte error the dispatcher classifies (another account, another base) like any other.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import orjson

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.canonical.request import CanonicalRequest
from gptgate.files.media import decode_data_url, image_size, is_data_url, sniff_mime
from gptgate.types import JSONObject
from gptgate.upstreams.chatgpt_web.errors import classify
from gptgate.upstreams.fetch import IMAGE_TYPES, Fetched, Fetcher
from gptgate.upstreams.transport import Transport

#: file types the retrieval index takes (``my_files``); anything else that is no image: ``ace_upload``
DOCUMENT_TYPES: Final = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/json",
        "text/plain",
        "text/markdown",
        "text/html",
        "text/csv",
        "text/x-python",
    }
)
BLOB_TRIES: Final = 3
POLL_TRIES: Final = 10
POLL_INTERVAL: Final = 0.5
UPLOAD_CACHE_SIZE: Final = 4096
URL_CACHE_BYTES: Final = 64 * 1024 * 1024
URL_CACHE_SECONDS: Final = 600.0
PartKey = tuple[int, int]  # (input item index, content part index)


@dataclass(frozen=True, slots=True)
class Media:
    """One part's bytes, ready to upload."""

    field: str
    data: bytes
    mime: str
    name: str
    image: bool


@dataclass(frozen=True, slots=True)
class Uploaded:
    file_id: str
    name: str
    mime: str
    size: int
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.width is not None


def use_case(mime: str) -> str:
    if mime in IMAGE_TYPES:
        return "multimodal"
    return "my_files" if mime in DOCUMENT_TYPES or mime.startswith("text/") else "ace_upload"


class _UrlCache:
    """Fetched URLs for a few minutes, bounded by total bytes (history replays the same URL)."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[float, Fetched]] = OrderedDict()
        self._bytes = 0

    def get(self, url: str) -> Fetched | None:
        found = self._items.get(url)
        if found is None or found[0] < time.monotonic():
            return None
        self._items.move_to_end(url)
        return found[1]

    def put(self, url: str, fetched: Fetched) -> None:
        if len(fetched.data) > URL_CACHE_BYTES // 4:
            return
        old = self._items.pop(url, None)
        if old is not None:
            self._bytes -= len(old[1].data)
        self._items[url] = (time.monotonic() + URL_CACHE_SECONDS, fetched)
        self._bytes += len(fetched.data)
        while self._bytes > URL_CACHE_BYTES:
            _, (_, dropped) = self._items.popitem(last=False)
            self._bytes -= len(dropped.data)


def media_parts(request: CanonicalRequest) -> list[tuple[PartKey, JSONObject]]:
    """The image and file parts of the request's messages, with where they are."""
    out: list[tuple[PartKey, JSONObject]] = []
    for i, item in enumerate(request.input):
        content = item.get("content") if item.get("type", "message") == "message" else None
        for j, part in enumerate(content if isinstance(content, list) else ()):
            if isinstance(part, dict) and part.get("type") in ("input_image", "input_file"):
                out.append(((i, j), part))
    return out


class Uploader:
    """Reads the request's media and uploads it for an account (see the module doc)."""

    def __init__(
        self, transport: Transport, fetcher: Fetcher, *, poll_interval: float = POLL_INTERVAL
    ) -> None:
        self._transport = transport
        self.fetcher = fetcher
        self._poll_interval = poll_interval
        self._uploads: OrderedDict[tuple[str, str], Uploaded] = OrderedDict()
        self._urls = _UrlCache()

    async def read(self, request: CanonicalRequest) -> dict[PartKey, Media]:
        """Every media part's bytes (data URLs decoded, remote URLs fetched under the policy)."""
        return {key: await self._media(key, part) for key, part in media_parts(request)}

    async def _media(self, key: PartKey, part: JSONObject) -> Media:
        where = f"input[{key[0]}].content[{key[1]}]."
        image = part["type"] == "input_image"
        name_field = "image_url" if image else ("file_data" if part.get("file_data") else "file_url")
        field = where + name_field
        url = part.get(name_field)
        if not isinstance(url, str) or not url:
            raise errors.UnsupportedFeature(
                f"'{field}' is missing (uploaded file ids are not supported on the web upstream)",
                param=field,
            )
        name = str(part.get("filename") or "")
        if is_data_url(url):
            declared, data = decode_data_url(url, field)
            mime = sniff_mime(data) or declared
            if image and mime not in IMAGE_TYPES:
                raise errors.RequestError(
                    f"'{field}': not an image (png, jpeg, gif or webp): {mime}.", param=field
                )
            limit = self.fetcher.policy.max_bytes
            if len(data) > limit:
                raise errors.RequestError(
                    f"'{field}': the file is larger than {limit / 1048576:g} MiB.",
                    param=field,
                    code="file_too_large",
                )
            return Media(field, data, mime, name or _default_name(mime), image)
        if not image and part.get("file_data"):
            raise errors.RequestError(f"'{field}': expected a base64 data URL.", param=field)
        fetched = self._urls.get(url)
        if fetched is None:
            fetched = await self.fetcher.fetch(url, field, image=image)
            self._urls.put(url, fetched)
        return Media(field, fetched.data, fetched.mime, name or fetched.name, image)

    async def upload_all(
        self,
        media: Mapping[PartKey, Media],
        account: Account,
        base: str,
        headers: dict[str, str],
        proxy: str | None,
    ) -> dict[PartKey, Uploaded]:
        out: dict[PartKey, Uploaded] = {}
        for key, item in media.items():
            out[key] = await self.upload(item, account, base, headers, proxy)
        return out

    async def upload(
        self, media: Media, account: Account, base: str, headers: dict[str, str], proxy: str | None
    ) -> Uploaded:
        cache_key = (account.id, hashlib.sha256(media.data).hexdigest())
        found = self._uploads.get(cache_key)
        if found is not None:
            self._uploads.move_to_end(cache_key)
            return found
        size = image_size(media.data) if media.image else None
        case = use_case(media.mime)
        create = {
            "file_name": media.name,
            "file_size": len(media.data),
            "use_case": case,
            "timezone_offset_min": 0,
            "reset_rate_limits": False,
        }
        made = await self._json("POST", base + "/backend-api/files", headers, create, proxy)
        file_id, upload_url = made.get("file_id"), made.get("upload_url")
        if not isinstance(file_id, str) or not isinstance(upload_url, str):
            raise errors.UpstreamUnavailable("the file upload was not accepted (no file id or upload URL)")
        await self._put_blob(upload_url, media, proxy)
        await self._json("POST", f"{base}/backend-api/files/{file_id}/uploaded", headers, {}, proxy)
        if case == "my_files":
            await self._await_index(base, file_id, headers, proxy)
        width, height = (size or (0, 0)) if media.image else (None, None)
        uploaded = Uploaded(file_id, media.name, media.mime, len(media.data), width, height)
        self._uploads[cache_key] = uploaded
        if len(self._uploads) > UPLOAD_CACHE_SIZE:
            self._uploads.popitem(last=False)
        return uploaded

    async def _json(
        self, method: str, url: str, headers: dict[str, str], body: JSONObject | None, proxy: str | None
    ) -> JSONObject:
        call = {**headers, "accept": "application/json"}
        data = None if body is None else orjson.dumps(body)
        if data is None:
            call.pop("content-type", None)
        resp = await self._transport.request(method, url, call, data, proxy)
        raw = await resp.read()
        await resp.aclose(True)
        if resp.status != 200:
            raise classify(resp.status, resp.headers, raw)
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise errors.UpstreamUnavailable(
                "the files endpoint answered something that is not JSON"
            ) from None
        return parsed if isinstance(parsed, dict) else {}

    async def _put_blob(self, url: str, media: Media, proxy: str | None) -> None:
        headers = {"content-type": media.mime, "x-ms-blob-type": "BlockBlob", "x-ms-version": "2020-04-08"}
        status = 0
        for _ in range(BLOB_TRIES):
            resp = await self._transport.request("PUT", url, headers, media.data, proxy)
            await resp.read()
            await resp.aclose(True)
            status = resp.status
            if status in (200, 201):
                return
            if status < 500:
                break
        raise errors.UpstreamUnavailable(f"the file upload to the blob store failed (HTTP {status})")

    async def _await_index(self, base: str, file_id: str, headers: dict[str, str], proxy: str | None) -> None:
        """Until the retrieval index has the document; a document still pending after the last poll
        is attached anyway (the model may see it late), a failed one is the request's problem."""
        for attempt in range(POLL_TRIES):
            state = await self._json("GET", f"{base}/backend-api/files/{file_id}", headers, None, proxy)
            status = state.get("retrieval_index_status")
            if status == "success":
                return
            if status == "failed":
                raise errors.UpstreamRequestRejected(
                    "the web backend could not index the file", code="file_index_failed"
                )
            if attempt + 1 < POLL_TRIES:
                await asyncio.sleep(self._poll_interval)

    async def close(self) -> None:
        await self.fetcher.close()


def _default_name(mime: str) -> str:
    ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}.get(mime)
    if ext is None:
        ext = "pdf" if mime == "application/pdf" else "txt" if mime.startswith("text/") else "bin"
    return f"upload.{ext}"
