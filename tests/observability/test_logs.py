"""The log: JSON lines with request ids, text lines, and no secret at any level or in a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web

from gptgate.observability.logs import REQUEST_ID, configure_logging
from gptgate.server import ACCESS_FORMAT

JWT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


def test_json_lines_carry_the_request_id(tmp_path: Path, root_restored: None) -> None:
    log_file = tmp_path / "gptgate.log"
    configure_logging("debug", "json", log_file)
    token = REQUEST_ID.set("req_0123")
    try:
        logging.getLogger("gptgate.test").debug("refresh with %s", "rt_secretvalue1")
    finally:
        REQUEST_ID.reset(token)
    logging.getLogger("gptgate.test").warning("no request here")
    first, second = (orjson.loads(line) for line in log_file.read_text().splitlines())
    assert set(first) == {"time", "level", "logger", "message", "request_id"}
    assert first["level"] == "debug" and first["logger"] == "gptgate.test"
    assert first["message"] == "refresh with rt_[REDACTED]"
    assert first["request_id"] == "req_0123"
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert set(second) == {"time", "level", "logger", "message"}


def test_text_lines_and_tracebacks_are_redacted(tmp_path: Path, root_restored: None) -> None:
    log_file = tmp_path / "gptgate.log"
    configure_logging("info", "text", log_file)
    log = logging.getLogger("gptgate.test")
    token = REQUEST_ID.set("req_77")
    try:
        raise ValueError(f"upstream refused Bearer {JWT} for gg-clientkey123")
    except ValueError:
        log.exception("call failed for %s", {"Cookie": "__Secure-next-auth.session-token=abc"})
    finally:
        REQUEST_ID.reset(token)
    text = log_file.read_text()
    assert " ERROR gptgate.test [req_77]: call failed for {'Cookie': '[REDACTED]'}\n" in text
    assert "ValueError: upstream refused Bearer [REDACTED] for gg-[REDACTED]" in text
    assert "Traceback (most recent call last)" in text
    for secret in (JWT, "gg-clientkey123", "abc"):
        assert secret not in text.replace("Traceback", "")


def test_a_second_call_replaces_only_its_own_handlers(tmp_path: Path, root_restored: None) -> None:
    root = logging.getLogger()
    others = [h for h in root.handlers if not getattr(h, "_gptgate_handler", False)]
    configure_logging("info", "text", tmp_path / "a.log")
    configure_logging("warning", "json", tmp_path / "b.log")
    ours = [h for h in root.handlers if getattr(h, "_gptgate_handler", False)]
    assert [type(h).__name__ for h in ours] == ["StreamHandler", "FileHandler"]
    assert ours[1].baseFilename == str(tmp_path / "b.log")  # type: ignore[attr-defined]
    assert all(h in root.handlers for h in others)
    assert root.level == logging.WARNING


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="xml"):
        configure_logging("info", "xml")


async def test_access_log_redacts_the_query_key(tmp_path: Path, root_restored: None) -> None:
    log_file = tmp_path / "gptgate.log"
    configure_logging("debug", "text", log_file)

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/v1beta/models", ok)
    runner = web.AppRunner(
        app, access_log=logging.getLogger("gptgate.access"), access_log_format=ACCESS_FORMAT
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as http, http.get(base + "/v1beta/models?key=AIzaSecret9") as r:
            assert r.status == 200
        for _ in range(250):  # the access line is written as the response ends: at most 5 s
            if "gptgate.access" in log_file.read_text():
                break
            await asyncio.sleep(0.02)
    finally:
        await runner.cleanup()
    text = log_file.read_text()
    assert '"GET /v1beta/models?key=[REDACTED] HTTP/1.1" 200' in text
    assert "AIzaSecret9" not in text
