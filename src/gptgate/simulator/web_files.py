"""Files of the simulated ChatGPT web backend (chatgpt-web-backend.md §3).

==================================================================  ==================================
``POST /backend-api/files``                                         create: file id + signed blob URL
``PUT  /sim-blob/{file_id}?sig=…``                                  the bytes (the blob store: not under
                                                                    ``/backend-api``, as upstream)
``POST /backend-api/files/{file_id}/uploaded``                      -> ``download_url``
``GET  /backend-api/files/{file_id}``                               retrieval index status (``pending``
                                                                    on the first poll, then ``success``)
``GET  /backend-api/files/{file_id}/download``                      -> ``download_url``
``GET  /backend-api/conversation/{cid}/attachment/{fid}/download``  -> ``download_url`` (generated)
``GET  /sim-blob/{file_id}?sig=…``                                  the bytes
==================================================================  ==================================

The conversation route (``web.py``) asks :func:`describe` what the last user message attached
(it answers "I see 1 image (1024x768)") and :func:`generate_image` for ``[[sim:web_image]]``.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from gptgate.simulator.state import STATE_KEY
from gptgate.simulator.validate import Rejection, authenticate

BLOB_PATH = "/sim-blob/"
GENERATED_SIZE = (64, 48)


@dataclass
class SimFile:
    file_id: str
    name: str
    size: int
    use_case: str
    sig: str
    mime: str = "application/octet-stream"
    data: bytes | None = None
    uploaded: bool = False
    polls: int = 0
    conversation_id: str | None = None


@dataclass
class FileStore:
    files: dict[str, SimFile] = field(default_factory=dict)
    #: blob PUTs answered 503 before one succeeds (tests of the retry)
    fail_puts: int = 0


FILES_KEY: web.AppKey[FileStore] = web.AppKey("gptgate_simulator_web_files", FileStore)


def _json(status: int, body: Any) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def _auth(request: web.Request) -> None:
    sim = request.app[STATE_KEY]
    sim.record(request.method, request.path, request.query_string, request.headers, None)
    authenticate(request.headers, chatgpt=True, require_auth=sim.config.require_auth, now=sim.now())


def _file(request: web.Request, key: str = "file_id") -> SimFile:
    found = request.app[FILES_KEY].files.get(request.match_info[key])
    if found is None:
        raise Rejection(404, {"detail": "File not found"})
    return found


def _blob_url(request: web.Request, record: SimFile) -> str:
    return f"{request.scheme}://{request.host}{BLOB_PATH}{record.file_id}?sig={record.sig}"


async def create(request: web.Request) -> web.Response:
    try:
        _auth(request)
        body = orjson.loads(await request.read() or b"{}")
        name, size, case = body.get("file_name"), body.get("file_size"), body.get("use_case")
        if not isinstance(name, str) or not isinstance(size, int) or size <= 0:
            raise Rejection(400, {"detail": "file_name and file_size are required"})
        if case not in ("multimodal", "my_files", "ace_upload"):
            raise Rejection(400, {"detail": f"Invalid use_case: {case}"})
    except Rejection as rejection:
        return _json(rejection.status, rejection.body)
    record = SimFile("file-" + uuid.uuid4().hex[:24], name, size, case, uuid.uuid4().hex)
    request.app[FILES_KEY].files[record.file_id] = record
    return _json(
        200, {"status": "success", "file_id": record.file_id, "upload_url": _blob_url(request, record)}
    )


def _blob(request: web.Request) -> SimFile:
    record = _file(request)
    if request.query.get("sig") != record.sig:
        raise Rejection(403, {"detail": "AuthenticationFailed: signature mismatch"})
    return record


async def put_blob(request: web.Request) -> web.Response:
    store = request.app[FILES_KEY]
    try:
        record = _blob(request)
        data = await request.read()
        request.app[STATE_KEY].record(request.method, request.path, "", request.headers, None)
        if store.fail_puts > 0:
            store.fail_puts -= 1
            raise Rejection(503, {"detail": "ServerBusy"})
        if request.headers.get("x-ms-blob-type") != "BlockBlob":
            raise Rejection(400, {"detail": "MissingRequiredHeader: x-ms-blob-type"})
        if len(data) != record.size:
            raise Rejection(400, {"detail": f"size mismatch: declared {record.size}, sent {len(data)}"})
    except Rejection as rejection:
        return _json(rejection.status, rejection.body)
    record.data, record.mime = data, request.headers.get("content-type", record.mime)
    return web.Response(status=201)


async def get_blob(request: web.Request) -> web.Response:
    try:
        record = _blob(request)
        if record.data is None:
            raise Rejection(404, {"detail": "BlobNotFound"})
    except Rejection as rejection:
        return _json(rejection.status, rejection.body)
    return web.Response(body=record.data, content_type=record.mime)


async def uploaded(request: web.Request) -> web.Response:
    try:
        _auth(request)
        record = _file(request)
        if record.data is None:
            raise Rejection(400, {"detail": "File has not been uploaded"})
    except Rejection as rejection:
        return _json(rejection.status, rejection.body)
    record.uploaded = True
    return _json(200, {"status": "success", "download_url": _blob_url(request, record)})


async def status(request: web.Request) -> web.Response:
    try:
        _auth(request)
        record = _file(request)
    except Rejection as rejection:
        return _json(rejection.status, rejection.body)
    record.polls += 1
    index = "success" if record.polls > 1 else "pending"
    tokens = len(record.data or b"") // 4
    return _json(
        200, {"file_id": record.file_id, "retrieval_index_status": index, "file_size_tokens": tokens}
    )


async def download(request: web.Request) -> web.Response:
    try:
        _auth(request)
        record = _file(request)
        if record.data is None:
            raise Rejection(404, {"detail": "File not found"})
    except Rejection as rejection:
        return _json(rejection.status, rejection.body)
    return _json(200, {"status": "success", "download_url": _blob_url(request, record)})


async def attachment(request: web.Request) -> web.Response:
    try:
        _auth(request)
        record = _file(request, "fid")
        if record.conversation_id != request.match_info["cid"]:
            raise Rejection(404, {"detail": "Conversation not found"})
    except Rejection as rejection:
        return _json(rejection.status, rejection.body)
    return _json(200, {"download_url": _blob_url(request, record)})


def describe(store: FileStore, message: dict[str, Any]) -> str:
    """What the turn saw attached: "I see 1 image (1024x768)." plus any files by name; a pointer
    or attachment to a file never uploaded is refused as upstream would (400)."""
    content = message.get("content") or {}
    pointers = [p for p in content.get("parts") or () if isinstance(p, dict)]
    images: list[str] = []
    for part in pointers:
        record = store.files.get(str(part.get("asset_pointer", "")).partition("://")[2])
        if record is None or not record.uploaded:
            raise Rejection(400, {"detail": f"Unknown asset pointer {part.get('asset_pointer')}"})
        images.append(f"{part.get('width')}x{part.get('height')}")
    files: list[str] = []
    for attached in (message.get("metadata") or {}).get("attachments") or ():
        record = store.files.get(str(attached.get("id")))
        if record is None or not record.uploaded:
            raise Rejection(400, {"detail": f"Unknown attachment {attached.get('id')}"})
        if "width" not in attached:
            files.append(record.name)
    said = []
    if images:
        said.append(f"{len(images)} image{'s' if len(images) > 1 else ''} ({', '.join(images)})")
    if files:
        said.append(f"{len(files)} file{'s' if len(files) > 1 else ''} ({', '.join(files)})")
    return f" I see {' and '.join(said)}." if said else ""


def png(width: int, height: int, rgb: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """A solid-colour PNG (what the image tool "draws")."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def generate_image(store: FileStore, conversation_id: str, prompt: str) -> SimFile:
    """A generated image kept for its conversation (a ``sediment://`` pointer)."""
    shade = hashlib.sha256(prompt.encode()).digest()[:3]
    data = png(*GENERATED_SIZE, (shade[0], shade[1], shade[2]))
    record = SimFile("file_" + uuid.uuid4().hex[:24], "image.png", len(data), "image_gen", uuid.uuid4().hex)
    record.data, record.mime, record.uploaded, record.conversation_id = (
        data,
        "image/png",
        True,
        conversation_id,
    )
    store.files[record.file_id] = record
    return record


def add_file_routes(app: web.Application) -> None:
    app[FILES_KEY] = FileStore()
    app.router.add_post("/backend-api/files", create)
    app.router.add_post("/backend-api/files/{file_id}/uploaded", uploaded)
    app.router.add_get("/backend-api/files/{file_id}", status)
    app.router.add_get("/backend-api/files/{file_id}/download", download)
    app.router.add_get("/backend-api/conversation/{cid}/attachment/{fid}/download", attachment)
    app.router.add_put(BLOB_PATH + "{file_id}", put_blob)
    app.router.add_get(BLOB_PATH + "{file_id}", get_blob)
