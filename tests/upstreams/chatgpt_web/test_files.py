"""The upload flow against the simulator's file routes, the encoded message, and generated-image
links in the decoded stream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest

from gptgate.accounts.model import Account
from gptgate.canonical.request import CanonicalRequest
from gptgate.errors import UnsupportedFeature
from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.web_files import FILES_KEY, FileStore
from gptgate.upstreams.chatgpt_web.decode import WebStreamDecoder
from gptgate.upstreams.chatgpt_web.encode import encode_messages
from gptgate.upstreams.chatgpt_web.files import Media, Uploaded, Uploader, use_case
from gptgate.upstreams.fetch import Fetcher, FetchPolicy
from gptgate.upstreams.transport import AiohttpTransport
from tests.files.test_media import png
from tests.support import test_account as account_for

IMAGE = png(8, 6)


@pytest.fixture
async def uploader() -> AsyncIterator[Uploader]:
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=5, limit=10)
    up = Uploader(transport, Fetcher(FetchPolicy()), poll_interval=0.01)
    yield up
    await up.close()
    await transport.close()


def store(simulator: RunningSimulator) -> FileStore:
    return simulator.runner.app[FILES_KEY]


def headers(account: Account) -> dict[str, str]:
    return {
        "authorization": "Bearer " + account.access_token,
        "chatgpt-account-id": account.account_id or "",
        "content-type": "application/json",
    }


async def test_the_blob_put_is_retried_then_cached(uploader: Uploader, simulator: RunningSimulator) -> None:
    store(simulator).fail_puts = 2  # two 503s, the third try lands
    media = Media("f", IMAGE, "image/png", "a.png", True)
    account, other_account = account_for(), account_for("acct-other")
    done = await uploader.upload(media, account, simulator.base_url, headers(account), None)
    assert (done.name, done.mime, done.size, done.width, done.height) == (
        "a.png",
        "image/png",
        len(IMAGE),
        8,
        6,
    )
    assert store(simulator).files[done.file_id].data == IMAGE
    again = await uploader.upload(media, account, simulator.base_url, headers(account), None)
    assert again is done
    other = await uploader.upload(media, other_account, simulator.base_url, headers(other_account), None)
    assert other.file_id != done.file_id  # the cache is per account
    puts = [r for r in simulator.state.requests if r["method"] == "PUT"]
    assert len(puts) == 4


def test_use_cases() -> None:
    assert [use_case(m) for m in ("image/png", "application/pdf", "text/x-go", "application/zip")] == [
        "multimodal",
        "my_files",
        "my_files",
        "ace_upload",
    ]


def test_messages_carry_pointers_in_order_and_every_upload_as_attachment() -> None:
    content = [
        {"type": "input_image", "image_url": "data:..."},
        {"type": "input_text", "text": "Compare with the report"},
        {"type": "input_file", "file_data": "data:..."},
    ]
    req = CanonicalRequest(
        model="gpt-4o", input=[{"type": "message", "role": "user", "content": content}], origin="chat"
    )
    uploads = {
        (0, 0): Uploaded("file-img", "a.png", "image/png", 10, 8, 6),
        (0, 2): Uploaded("file-doc", "r.pdf", "application/pdf", 20),
    }
    [message] = encode_messages(req, lambda: "m1", uploads)
    assert message == {
        "id": "m1",
        "author": {"role": "user"},
        "content": {
            "content_type": "multimodal_text",
            "parts": [
                {
                    "content_type": "image_asset_pointer",
                    "asset_pointer": "file-service://file-img",
                    "size_bytes": 10,
                    "width": 8,
                    "height": 6,
                },
                "Compare with the report",
            ],
        },
        "metadata": {
            "attachments": [
                {
                    "id": "file-img",
                    "size": 10,
                    "name": "a.png",
                    "mime_type": "image/png",
                    "width": 8,
                    "height": 6,
                },
                {"id": "file-doc", "size": 20, "name": "r.pdf", "mime_type": "application/pdf"},
            ]
        },
    }
    with pytest.raises(UnsupportedFeature):
        encode_messages(req, lambda: "m1", {})  # never sent without its upload


def test_a_generated_image_becomes_one_stable_link() -> None:
    minted: list[tuple[str, str | None]] = []

    def link(pointer: str, cid: str | None) -> str:
        minted.append((pointer, cid))
        return f"https://gw/files/T{len(minted)}"

    decoder = WebStreamDecoder("gpt-4o", link=link)
    part = {
        "content_type": "image_asset_pointer",
        "asset_pointer": "sediment://file_1",
        "width": 4,
        "height": 3,
    }
    message = {
        "id": "tool-1",
        "author": {"role": "tool", "name": "t2uay3k.sj1i4kz"},
        "content": {"content_type": "multimodal_text", "parts": [part]},
        "status": "finished_successfully",
        "recipient": "all",
    }
    chunk = b"data: " + orjson.dumps({"message": message, "conversation_id": "c-1"}) + b"\n\n"
    events = decoder.feed(chunk) + decoder.feed(chunk)  # the same snapshot again: nothing new
    assert minted == [("sediment://file_1", "c-1")]
    deltas = [e.data["delta"] for e in events if e.type == "response.output_text.delta"]
    assert deltas == ["![image](https://gw/files/T1)"]
