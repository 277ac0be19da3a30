"""What the page tests share: Debian's Chromium driven by Playwright (no browser download), the
screenshot folder, and a simulator in its own process (the browser tests are synchronous)."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parent / ".artifacts" / "screenshots"

#: for a browser test module: ``pytestmark = BROWSER``
BROWSER = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium (scripts/browser.sh installs it)"
    ),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="playwright is not installed"),
]


@contextmanager
def browser_page(width: int, height: int) -> Iterator[Any]:
    """A fresh tab in a fresh headless Chromium."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height})
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        try:
            yield tab
        finally:
            context.close()
            browser.close()


@contextmanager
def simulator_process() -> Iterator[str]:
    """``gptgate simulate`` on a free port; its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gptgate", "simulate", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if m := re.search(r"listening on (http://\S+)", proc.stdout.readline()):
                yield m.group(1)
                break
        else:
            raise TimeoutError("the simulator did not start")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
