"""The chat page in headless Chromium (Debian's ``chromium`` driven by Playwright): sign in with a
key, pick a model, stream an answer from the simulator, attach an image, reload and find the
conversation kept, sign in with the other key and not find it. A screenshot of each state lands
in ``tests/.artifacts/screenshots/`` (``chat-*.png``)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gptgate.simulator.tokens import make_access_token
from tests.admin.conftest import serve
from tests.browser import BROWSER, SHOTS, browser_page
from tests.chat.conftest import STATIC_KEY, ChatGateway

pytestmark = BROWSER

HOSTILE = (
    '<img src=x onerror="window.pwned=1"> **bold** *it* `code` [bad](javascript:window.pwned=2) '
    "[good](https://example.com/a) ![remote](https://example.com/x.png) ![local](data:image/png;base64,AAAA)\n\n"
    "```js\n<script>window.pwned=3</script>\n```"
)


def png(path: Path, rgb: tuple[int, int, int] = (220, 38, 38), size: int = 48) -> Path:
    """A solid square as a PNG (no imaging library needed)."""
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture
def page() -> Iterator[Any]:
    with browser_page(1280, 800) as tab:
        yield tab


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"chat-{name}.png"))


def sign_in(page: Any, key: str) -> None:
    page.fill("#key", key)
    page.click("#signin")
    page.wait_for_selector("#model optgroup", state="attached")


def wait_answer(page: Any, nth: int) -> Any:
    answer = page.locator(".msg.assistant").nth(nth)
    answer.locator(".text.md p").first.wait_for()
    page.wait_for_selector("#send:not([hidden])")
    return answer


def test_chat_sign_in_stream_attach_reload_and_isolation(
    chat_gateway: ChatGateway, page: Any, tmp_path: Path
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(chat_gateway.base_url + "/chat")
    page.wait_for_selector("#signin-form")
    page.fill("#key", "gg-not-a-real-key")
    page.click("#signin")
    page.wait_for_selector("#signin-error:has-text('Incorrect API key provided.')")
    shot(page, "01-sign-in")
    errors.clear()  # the refused sign-in's 401 is logged by the browser

    sign_in(page, chat_gateway.alice)
    page.wait_for_selector("#who:has-text('alice')")
    page.wait_for_selector("text=No conversations yet.")
    groups = page.eval_on_selector_all("#model optgroup", "els => els.map(e => e.label)")
    assert groups[0] == "Codex models" and "Codex models · reasoning effort" in groups
    page.select_option("#model", "gpt-5.4")
    shot(page, "02-signed-in")

    page.fill("#prompt", "Hello there, gateway")
    page.keyboard.press("Enter")
    answer = wait_answer(page, 0)
    assert "Hello there, gateway" in answer.inner_text()
    assert answer.locator("details.reasoning summary").inner_text() == "Reasoning"
    page.wait_for_selector("#conversations .conv.active:has-text('Hello there, gateway')")
    assert page.inner_text("#conv-title") == "Hello there, gateway"
    answer.locator("details.reasoning summary").click()
    shot(page, "03-streamed")

    page.set_input_files("#files", str(png(tmp_path / "red.png")))
    page.wait_for_selector("#chips .pending.image img")
    page.fill("#prompt", "What is in this image?")
    shot(page, "04-attachment")
    page.click("#send")
    wait_answer(page, 1)
    assert page.locator(".msg.user").nth(1).locator("img.thumb").count() == 1
    shot(page, "05-image-answered")

    # the page's markdown renderer never turns model text into markup
    page.evaluate(
        "async (md) => { const m = await import('/chat/static/markdown.js');"
        " const box = document.createElement('div'); box.id = 'md-check'; box.append(...m.render(md));"
        " document.body.append(box); }",
        HOSTILE,
    )
    check = page.locator("#md-check")
    assert check.locator("strong").inner_text() == "bold" and check.locator("em").inner_text() == "it"
    assert check.locator("a[href^='javascript']").count() == 0
    assert check.locator("a[href='https://example.com/a']").inner_text() == "good"
    assert check.locator("img").evaluate_all("els => els.map(e => e.getAttribute('src'))") == [
        "data:image/png;base64,AAAA"
    ]
    assert check.locator("script").count() == 0 and "<script>" in check.locator("pre code").inner_text()
    assert page.evaluate("window.pwned") is None

    # reload: the same conversation, from the store
    page.reload()
    page.wait_for_selector(".msg.assistant >> nth=1")
    assert page.locator(".msg.user").count() == 2 and page.locator(".msg.user img.thumb").count() == 1
    assert page.locator("#conversations .conv").count() == 1
    assert page.input_value("#model") == "gpt-5.4"
    shot(page, "06-reloaded")

    # the other key sees none of it
    page.click("#signout")
    page.wait_for_selector("#signin-error:has-text('Signed out.')")
    sign_in(page, chat_gateway.bob)
    page.wait_for_selector("#who:has-text('bob')")
    page.wait_for_selector("text=No conversations yet.")
    assert "Hello there, gateway" not in page.inner_text("body")
    shot(page, "07-other-key")

    # a phone-sized window: the list slides in over the chat
    page.set_viewport_size({"width": 390, "height": 760})
    page.fill("#prompt", "A small screen")
    page.keyboard.press("Enter")
    wait_answer(page, 0)
    shot(page, "08-narrow")
    page.click(".chat-head .menu")
    page.wait_for_selector("#sidebar #new-chat", state="visible")
    page.wait_for_timeout(300)  # the slide-in
    shot(page, "09-narrow-list")
    assert errors == []


@pytest.fixture
def storeless(simulator_url: str, tmp_path: Path) -> Iterator[str]:
    served = serve(
        simulator_url,
        tmp_path,
        account_store="false",
        access_token=make_access_token("acct-chat"),
        api_keys=f'["{STATIC_KEY}"]',
    )
    try:
        yield served.base_url
    finally:
        served.stop()


def test_stop_errors_inline_and_browser_kept_conversations(storeless: str, page: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(storeless + "/chat")
    sign_in(page, STATIC_KEY)
    page.wait_for_selector("#local-notice:has-text('they stay in this browser')")

    # stop: the request is aborted while the upstream has not answered yet
    page.fill("#prompt", "Take your time [[sim:slow_first_byte ms=8000]]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#stop:not([hidden])")
    page.click("#stop")
    page.wait_for_selector(".msg.assistant .note:has-text('Stopped.')")
    page.wait_for_selector("#send:not([hidden])")

    # an error inside the stream shows in the gateway's words, under the partial answer
    page.fill("#prompt", "Break please [[sim:failed after=2]]")
    page.keyboard.press("Enter")
    failure = page.locator(".msg.assistant").nth(1).locator(".error")
    failure.wait_for()
    assert failure.inner_text() == (
        "Your input exceeds the context window of this model. Please adjust your input and try again."
    )
    page.wait_for_selector("#send:not([hidden])")
    shot(page, "10-stopped-and-error")

    # the turn with an answer was kept in this browser (no store): reload finds it
    page.wait_for_selector("#conversations .conv")
    page.reload()
    page.wait_for_selector(".msg.user >> nth=1")
    assert page.locator("#conversations .conv").count() == 1
    texts = page.locator(".msg.user").all_inner_texts()
    assert [t.split("\n")[-1] for t in texts] == [
        "Take your time [[sim:slow_first_byte ms=8000]]",
        "Break please [[sim:failed after=2]]",
    ]
    shot(page, "11-kept-in-browser")
    assert errors == []
