"""The console in headless Chromium (Debian's ``chromium`` driven by Playwright, no browser download):
sign in, upload two tokens, add an account by the device-code flow against the simulator, visit
every page; a screenshot of each lands in ``tests/.artifacts/screenshots/``."""

from __future__ import annotations

import importlib.util
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.admin.conftest import ADMIN_PASSWORD, CLIENT_KEY, Served, serve
from tests.browser import BROWSER, SHOTS, browser_page, simulator_process

pytestmark = BROWSER


def post(url: str, body: Any, method: str = "POST") -> Any:
    request = urllib.request.Request(
        url, data=orjson.dumps(body), method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return orjson.loads(resp.read())


@pytest.fixture
def simulator_url() -> Iterator[str]:
    with simulator_process() as url:
        yield url


@pytest.fixture
def console(simulator_url: str, tmp_path: Path) -> Iterator[Served]:
    served = serve(simulator_url, tmp_path, admin_password=ADMIN_PASSWORD, api_keys=f'["{CLIENT_KEY}"]')
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def page() -> Iterator[Any]:
    with browser_page(1360, 860) as tab:
        yield tab


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_console_accounts_device_sign_in_and_pages(console: Served, simulator_url: str, page: Any) -> None:
    one, two = post(simulator_url + "/_sim/accounts", {"count": 2})["accounts"]
    post(simulator_url + "/_sim/device", {"interval": 1}, "PUT")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # sign in (a wrong password first)
    page.goto(console.base_url + "/admin")
    page.wait_for_selector("#signin-form")
    shot(page, "01-sign-in")
    page.fill("#password", "not the password")
    page.click("#signin")
    page.wait_for_selector("#signin-error:has-text('Wrong admin password')")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#signin")
    page.wait_for_selector("text=No accounts yet")
    shot(page, "02-accounts-empty")

    # upload two tokens
    page.click("#upload-open")
    page.fill("#upload-text", f"{one['access_token']}\n{two['refresh_token']}\n")
    page.click("#upload-submit")
    page.wait_for_selector("#upload-result:has-text('Added 2, skipped 0 already stored, failed 0.')")
    shot(page, "03-upload")
    page.keyboard.press("Escape")
    page.wait_for_selector("#accounts-table tbody tr >> nth=1")
    assert page.locator("#accounts-table tbody tr").count() == 2
    page.locator("#accounts-table tbody tr").first.locator("[data-action=test]").click()
    page.wait_for_selector("#toast:has-text('ok, plan plus')")
    page.wait_for_selector("#accounts-table .quota .bar")

    # add an account by the device-code flow; the test approves the code at the simulator
    page.click("#signin-device")
    page.wait_for_selector("#device-code")
    user_code = page.inner_text("#device-code").strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", user_code)
    assert page.get_attribute("#device-link", "href") == simulator_url + "/codex/device"
    shot(page, "04-device-code")
    post(simulator_url + "/_sim/device/approve", {"user_code": user_code, "email": "device@example.com"})
    page.wait_for_selector("#device-status:has-text('Added device@example.com')", timeout=20_000)
    shot(page, "05-device-added")
    page.keyboard.press("Escape")
    page.wait_for_selector("#accounts-table tbody tr >> nth=2")
    page.wait_for_selector("#accounts-table:has-text('device@example.com')")
    shot(page, "06-accounts")

    # the other pages
    for name in ("keys", "usage", "settings"):
        page.click(f"#tabs a[data-page={name}]")
        page.wait_for_selector(f"#tabs a.active[data-page={name}]")
        page.wait_for_load_state("networkidle")
        time.sleep(0.5)
        shot(page, f"07-{name}")
    page.wait_for_selector("#settings-table:has-text('admin_password')")
    assert ADMIN_PASSWORD not in page.content()
    assert errors == []


KEYS_AND_USAGE = all(
    importlib.util.find_spec(f"gptgate.admin.{name}") is not None for name in ("keys_api", "usage_api")
)


@pytest.mark.skipif(not KEYS_AND_USAGE, reason="keys/usage API not merged yet")
def test_console_key_used_by_the_openai_sdk_then_revoked(
    console: Served, simulator_url: str, page: Any
) -> None:
    import openai

    (one,) = post(simulator_url + "/_sim/accounts", {"count": 1})["accounts"]
    page.goto(console.base_url + "/admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#signin")
    page.wait_for_selector("#topbar:not([hidden]) #tabs")
    page.wait_for_selector("text=No accounts yet")
    page.click("#upload-open")
    page.fill("#upload-text", one["access_token"])
    page.click("#upload-submit")
    page.wait_for_selector("#upload-result:has-text('Added 1')")
    page.keyboard.press("Escape")

    # create a key with limits; its secret is shown once
    page.click("#tabs a[data-page=keys]")
    page.wait_for_selector("text=No client keys yet")
    page.click("#key-create")
    page.fill("#key-name", "alice")
    page.fill("#key-models", "gpt-5*")
    page.fill("#key-rpm", "60")
    page.click("#key-submit")
    page.wait_for_selector("#key-secret")
    secret = page.inner_text("#key-secret").strip()
    shot(page, "10-key-secret")
    page.click("#key-done")
    page.wait_for_selector("#keys-table:has-text('alice')")

    client = openai.OpenAI(base_url=console.base_url + "/v1", api_key=secret, max_retries=0)
    reply = client.chat.completions.create(model="gpt-5.5", messages=[{"role": "user", "content": "Hello!"}])
    assert reply.choices[0].message.content

    # the request shows in usage: the latest requests and the charts
    page.click("#tabs a[data-page=usage]")
    page.wait_for_selector("#usage-requests:has-text('gpt-5.5')", timeout=20_000)
    page.wait_for_selector("#usage-chart svg polyline")
    shot(page, "11-usage")
    page.click("#tabs a[data-page=keys]")
    page.wait_for_selector("#keys-table:has-text('alice')")
    shot(page, "12-keys")

    # revoke: the next request is refused
    page.locator("#keys-table tbody tr", has_text="alice").locator("[data-action=revoke]").click()
    page.click("#confirm-ok")
    page.wait_for_selector("#keys-table:has-text('revoked')")
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="gpt-5.5", messages=[{"role": "user", "content": "again"}])
