"""Files through a served gateway and the simulator's web backend, with the real OpenAI SDK:
an image by base64 and by URL and a document reach the turn (the simulator says what it saw),
a generated image comes back as a gateway link that downloads the simulator's bytes, and
refused URLs are 400s in each client's envelope."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import orjson
import pytest
from aiohttp import web
from openai import AsyncOpenAI

from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.web_files import FILES_KEY, SimFile
from gptgate.upstreams import fetch
from tests.files.test_media import png
from tests.support import Served, serve_app, start_gateway

IMAGE = png(1024, 768)
DATA_URL = "data:image/png;base64," + base64.b64encode(IMAGE).decode()
NOTES = b"line one\nline two\n"


@pytest.fixture
async def images() -> AsyncIterator[str]:
    """A small site serving the test image (and a redirect to the metadata address)."""

    async def cat(request: web.Request) -> web.Response:
        return web.Response(body=IMAGE, content_type="image/png")

    async def metadata(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    app = web.Application()
    app.router.add_get("/cat.png", cat)
    app.router.add_get("/hop", metadata)
    runner, base = await serve_app(app)
    try:
        yield base
    finally:
        await runner.cleanup()


async def gateway_on(simulator: RunningSimulator, **settings: Any) -> Served:
    return await start_gateway(simulator.base_url, chatgpt_base_urls=[simulator.base_url], **settings)


@pytest.fixture
async def served(simulator: RunningSimulator) -> AsyncIterator[Served]:
    gateway = await gateway_on(simulator, fetch_allow_private=True)
    try:
        yield gateway
    finally:
        await gateway.close()


@pytest.fixture
async def strict(simulator: RunningSimulator) -> AsyncIterator[Served]:
    gateway = await gateway_on(simulator)
    try:
        yield gateway
    finally:
        await gateway.close()


def client(served: Served) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=served.base_url + "/v1", api_key="sk-test", max_retries=0, timeout=20)


async def ask(served: Served, *parts: dict[str, Any], text: str = "What is this?") -> str:
    content = [{"type": "text", "text": text}, *parts]
    reply = await client(served).chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": content}],  # type: ignore[list-item,misc]
    )
    return reply.choices[0].message.content or ""


def files(simulator: RunningSimulator) -> dict[str, SimFile]:
    return simulator.runner.app[FILES_KEY].files


def calls(simulator: RunningSimulator, method: str, path: str) -> list[dict[str, Any]]:
    return [r for r in simulator.state.requests if r["method"] == method and re.fullmatch(path, r["path"])]


async def test_an_image_by_base64_is_uploaded_once_and_attached(
    served: Served, simulator: RunningSimulator
) -> None:
    image = {"type": "image_url", "image_url": {"url": DATA_URL}}
    assert await ask(served, image) == "Hello! You said: What is this?. I see 1 image (1024x768)."
    [record] = files(simulator).values()
    assert (record.name, record.size, record.use_case, record.mime) == (
        "upload.png",
        len(IMAGE),
        "multimodal",
        "image/png",
    )
    assert record.data == IMAGE
    put = calls(simulator, "PUT", "/sim-blob/.*")[0]
    assert put["headers"]["x-ms-blob-type"] == "BlockBlob" and put["headers"]["x-ms-version"] == "2020-04-08"
    assert "authorization" not in put["headers"]  # the account's token never goes to the blob store
    message = calls(simulator, "POST", "/backend-api/conversation")[-1]["body"]["messages"][-1]
    pointer = {
        "content_type": "image_asset_pointer",
        "asset_pointer": "file-service://" + record.file_id,
        "size_bytes": len(IMAGE),
        "width": 1024,
        "height": 768,
    }
    assert message["content"] == {"content_type": "multimodal_text", "parts": ["What is this?", pointer]}
    assert message["metadata"] == {
        "attachments": [
            {
                "id": record.file_id,
                "size": len(IMAGE),
                "name": "upload.png",
                "mime_type": "image/png",
                "width": 1024,
                "height": 768,
            }
        ]
    }
    # the same bytes again (a conversation replaying its history): no second upload
    assert await ask(served, image, text="And now?") == "Hello! You said: And now?. I see 1 image (1024x768)."
    assert len(calls(simulator, "POST", "/backend-api/files")) == 1
    assert len(calls(simulator, "PUT", "/sim-blob/.*")) == 1


async def test_an_image_by_url_and_a_document(
    served: Served, simulator: RunningSimulator, images: str
) -> None:
    image = {"type": "image_url", "image_url": {"url": images + "/cat.png"}}
    assert await ask(served, image) == "Hello! You said: What is this?. I see 1 image (1024x768)."
    [record] = files(simulator).values()
    assert record.name == "cat.png" and record.data == IMAGE
    notes = {
        "type": "file",
        "file": {
            "file_data": "data:text/plain;base64," + base64.b64encode(NOTES).decode(),
            "filename": "notes.txt",
        },
    }
    assert (
        await ask(served, notes, text="Summarise") == "Hello! You said: Summarise. I see 1 file (notes.txt)."
    )
    document = next(r for r in files(simulator).values() if r.name == "notes.txt")
    assert document.use_case == "my_files" and document.data == NOTES
    assert (
        len(calls(simulator, "GET", f"/backend-api/files/{document.file_id}")) == 2
    )  # pending, then success
    message = calls(simulator, "POST", "/backend-api/conversation")[-1]["body"]["messages"][-1]
    assert message["content"] == {"content_type": "text", "parts": ["Summarise"]}
    assert message["metadata"]["attachments"] == [
        {"id": document.file_id, "size": len(NOTES), "name": "notes.txt", "mime_type": "text/plain"}
    ]


async def test_a_generated_image_downloads_through_the_gateway(
    served: Served, simulator: RunningSimulator
) -> None:
    text = await ask(served, text="Draw a cat [[sim:web_image]]")
    match = re.fullmatch(
        r"!\[image\]\((http://127\.0\.0\.1:\d+/files/([\w.-]+))\)\n\nHello! You said: Draw a cat\.", text
    )
    assert match is not None, text
    link, token = match.groups()
    assert link.startswith(served.base_url + "/files/")
    [record] = files(simulator).values()
    assert "sediment" not in text and record.sig not in text and simulator.base_url not in text
    async with aiohttp.ClientSession() as http:  # no key: the signed link is the authorization
        async with http.get(link) as resp:
            assert resp.status == 200 and resp.headers["content-type"] == "image/png"
            assert await resp.read() == record.data
        fetched = calls(simulator, "GET", r"/backend-api/conversation/.+/attachment/.+/download")
        assert (
            fetched[-1]["path"]
            == f"/backend-api/conversation/{record.conversation_id}/attachment/{record.file_id}/download"
        )
        assert fetched[-1]["headers"]["authorization"].startswith("Bearer ")
        async with http.get(served.base_url + "/files/" + token[:-3] + "AAA") as resp:
            assert resp.status == 404
            assert orjson.loads(await resp.read()) == {
                "error": {
                    "message": "This download link is not valid or has expired.",
                    "type": "not_found_error",
                    "param": None,
                    "code": "not_found",
                }
            }


FIELD = "input[0].content[1].image_url"
HINT = " (set fetch_allow_private to allow such addresses)."


async def test_private_urls_are_refused_in_the_openai_envelope(strict: Served, images: str) -> None:
    port = images.rsplit(":", 1)[1]
    for url, why in (
        (images + "/cat.png", "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        (f"http://[::ffff:127.0.0.1]:{port}/cat.png", "127.0.0.1 is a loopback address"),
        (f"http://localhost:{port}/cat.png", "localhost resolves to 127.0.0.1 is a loopback address"),
    ):
        with pytest.raises(openai.BadRequestError) as refused:
            await ask(strict, {"type": "image_url", "image_url": {"url": url}})
        body = refused.value.response.json()
        if url.startswith("http://localhost"):
            assert body["error"]["message"].startswith(f"'{FIELD}': refused: localhost resolves to ")
            body["error"]["message"] = "checked"
            expected = "checked"
        else:
            expected = f"'{FIELD}': refused: {why}{HINT}"
        assert body == {
            "error": {
                "message": expected,
                "type": "invalid_request_error",
                "param": FIELD,
                "code": "url_not_allowed",
            }
        }


async def test_a_redirect_to_a_private_address_is_refused(
    strict: Served, images: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first hop (the test's own loopback site) is let through as if it were public; its
    redirect to the metadata address is checked like the first hop and refused, unconnected."""
    real = fetch.address_refusal
    monkeypatch.setattr(fetch, "address_refusal", lambda a: None if a == "127.0.0.1" else real(a))
    with pytest.raises(openai.BadRequestError) as refused:
        await ask(strict, {"type": "image_url", "image_url": {"url": images + "/hop"}})
    assert refused.value.response.json() == {
        "error": {
            "message": f"'{FIELD}': refused: 169.254.169.254 is a link-local address{HINT}",
            "type": "invalid_request_error",
            "param": FIELD,
            "code": "url_not_allowed",
        }
    }


async def test_anthropic_and_gemini_images_reach_the_same_upload(
    served: Served, simulator: RunningSimulator
) -> None:
    data = base64.b64encode(IMAGE).decode()
    anthropic = {
        "model": "gpt-4o",
        "max_tokens": 100,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}},
                ],
            }
        ],
    }
    gemini = {
        "contents": [
            {
                "role": "user",
                "parts": [{"text": "What is this?"}, {"inlineData": {"mimeType": "image/png", "data": data}}],
            }
        ]
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(served.base_url + "/v1/messages", data=orjson.dumps(anthropic)) as resp:
            body = orjson.loads(await resp.read())
            assert resp.status == 200, body
            assert body["content"][0]["text"] == "Hello! You said: What is this?. I see 1 image (1024x768)."
        url = served.base_url + "/v1beta/models/gpt-4o:generateContent"
        async with http.post(url, data=orjson.dumps(gemini)) as resp:
            body = orjson.loads(await resp.read())
            assert resp.status == 200, body
            assert body["candidates"][0]["content"]["parts"][0]["text"] == (
                "Hello! You said: What is this?. I see 1 image (1024x768)."
            )
    assert len(calls(simulator, "POST", "/backend-api/files")) == 1  # same bytes, same account: one upload


async def test_a_refused_url_in_anthropic_and_gemini_envelopes(strict: Served) -> None:
    url = "http://169.254.169.254/latest/meta-data/"
    message = f"'{FIELD}': refused: 169.254.169.254 is a link-local address{HINT}"
    anthropic = {
        "model": "gpt-4o",
        "max_tokens": 100,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image", "source": {"type": "url", "url": url}},
                ],
            }
        ],
    }
    gemini = {
        "contents": [
            {
                "role": "user",
                "parts": [{"text": "What is this?"}, {"fileData": {"mimeType": "image/png", "fileUri": url}}],
            }
        ]
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(strict.base_url + "/v1/messages", data=orjson.dumps(anthropic)) as resp:
            assert resp.status == 400
            body = orjson.loads(await resp.read())
            assert body["request_id"].startswith("req_")
            del body["request_id"]
            assert body == {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
        gemini_url = strict.base_url + "/v1beta/models/gpt-4o:generateContent"
        async with http.post(gemini_url, data=orjson.dumps(gemini)) as resp:
            assert resp.status == 400
            body = orjson.loads(await resp.read())
            assert body["error"]["code"] == 400 and body["error"]["message"] == message
            assert body["error"]["status"] == "INVALID_ARGUMENT"
