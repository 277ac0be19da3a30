"""Files with the real openai SDK against ``gptgate serve --demo`` (a subprocess): an image by
base64 and by URL reach the web turn, and a generated image's link downloads through the gateway.
The demo is started with ``GPTGATE_FETCH_ALLOW_PRIVATE=true`` so it may fetch from this test's
loopback site (by default such URLs are refused)."""

from __future__ import annotations

import base64
import re
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from openai import OpenAI

from tests.files.test_media import png
from tests.processes import serve_process

IMAGE = png(1024, 768)


@pytest.fixture(scope="module")
def files_demo() -> Iterator[str]:
    with serve_process("--demo", "--port", "0", env={"GPTGATE_FETCH_ALLOW_PRIVATE": "true"}) as base:
        yield base


class _Image(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(IMAGE)))
        self.end_headers()
        self.wfile.write(IMAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Image)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def ask(base: str, text: str, url: str | None = None) -> str:
    client = OpenAI(base_url=base + "/v1", api_key="sk-demo", max_retries=0, timeout=20)
    content: list[dict[str, object]] = [{"type": "text", "text": text}]
    if url is not None:
        content.append({"type": "image_url", "image_url": {"url": url}})
    reply = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": content}],  # type: ignore[misc,list-item]
    )
    return reply.choices[0].message.content or ""


def test_images_by_base64_and_by_url(files_demo: str, site: str) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(IMAGE).decode()
    assert (
        ask(files_demo, "What is this?", data_url)
        == "Hello! You said: What is this?. I see 1 image (1024x768)."
    )
    assert (
        ask(files_demo, "And this?", site + "/cat.png")
        == "Hello! You said: And this?. I see 1 image (1024x768)."
    )


def test_a_generated_image_link_downloads(files_demo: str) -> None:
    text = ask(files_demo, "Draw a cat [[sim:web_image]]")
    match = re.match(r"!\[image\]\((http://127\.0\.0\.1:\d+/files/[\w.-]+)\)", text)
    assert match is not None, text
    with urllib.request.urlopen(match.group(1), timeout=10) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
        assert resp.read().startswith(b"\x89PNG\r\n\x1a\n")
