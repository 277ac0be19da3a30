"""Remote URLs: refused addresses (literal, resolved, redirected to), and the size, type and
redirect limits, against a real loopback server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from gptgate.upstreams import fetch
from gptgate.upstreams.fetch import Fetcher, FetchPolicy, FetchRefused, address_refusal
from tests.files.test_media import png
from tests.support import serve_app

FIELD = "messages[0].content[1].image_url"


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("127.8.9.10", "127.8.9.10 is a loopback address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("10.1.2.3", "10.1.2.3 is a private address"),
        ("172.16.0.1", "172.16.0.1 is a private address"),
        ("192.168.1.1", "192.168.1.1 is a private address"),
        ("100.64.0.1", "100.64.0.1 is a shared (carrier-grade NAT) address"),
        ("0.0.0.0", "0.0.0.0 is an unspecified address"),
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("240.0.0.1", "240.0.0.1 is a private address"),
        ("::1", "::1 is a loopback address"),
        ("::", ":: is an unspecified address"),
        ("fe80::1", "fe80::1 is a link-local address"),
        ("fc00::1", "fc00::1 is a private address"),
        ("fd12:3456::1", "fd12:3456::1 is a private address"),
        ("ff02::1", "ff02::1 is a multicast address"),
        ("::ffff:127.0.0.1", "127.0.0.1 is a loopback address"),
        ("::ffff:169.254.169.254", "169.254.169.254 is a link-local address"),
        ("::ffff:10.0.0.1", "10.0.0.1 is a private address"),
    ],
)
def test_non_public_addresses_are_refused(address: str, why: str) -> None:
    assert address_refusal(address) == why


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(address) is None


async def refused(fetcher: Fetcher, url: str, *, image: bool = True) -> FetchRefused:
    with pytest.raises(FetchRefused) as caught:
        await fetcher.fetch(url, FIELD, image=image)
    assert caught.value.status == 400 and caught.value.param == FIELD
    return caught.value


@pytest.fixture
async def server() -> AsyncIterator[str]:
    image = png(4, 3)

    async def handler(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == "to":
            raise web.HTTPFound(request.query["url"])
        if name == "loop":
            raise web.HTTPFound("/loop")
        if name == "page.html":
            return web.Response(text="<html></html>", content_type="text/html")
        if name == "big.png":
            return web.Response(body=image + b"\x00" * 2048, content_type="image/png")
        if name == "slow.png":
            import asyncio

            await asyncio.sleep(2)
        return web.Response(body=image, content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/{name}", handler)
    runner, base = await serve_app(app)
    try:
        yield base
    finally:
        await runner.cleanup()


async def test_literal_and_resolved_private_addresses_are_refused_before_connecting(server: str) -> None:
    fetcher = Fetcher(FetchPolicy())
    try:
        port = server.rsplit(":", 1)[1]
        err = await refused(fetcher, f"http://127.0.0.1:{port}/a.png")
        assert err.message == (
            f"'{FIELD}': refused: 127.0.0.1 is a loopback address (set fetch_allow_private to allow such addresses)."
        )
        assert err.code == "url_not_allowed"
        err = await refused(fetcher, "http://169.254.169.254/latest/meta-data/")
        assert "169.254.169.254 is a link-local address" in err.message
        assert "::1 is a loopback" in (await refused(fetcher, f"http://[::1]:{port}/a.png")).message
        assert (
            "127.0.0.1 is a loopback"
            in (await refused(fetcher, f"http://[::ffff:127.0.0.1]:{port}/")).message
        )
        # a name: resolved first, every address checked, refused before any connection
        err = await refused(fetcher, f"http://localhost:{port}/a.png")
        assert err.code == "url_not_allowed" and "localhost resolves to" in err.message
        assert "loopback" in err.message
        assert "only http and https" in (await refused(fetcher, "file:///etc/passwd")).message
    finally:
        await fetcher.close()


async def test_a_redirect_to_a_private_address_is_refused(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first hop (this test's loopback server) is let through; the redirect target is not."""
    real = fetch.address_refusal
    monkeypatch.setattr(fetch, "address_refusal", lambda a: None if a == "127.0.0.1" else real(a))
    fetcher = Fetcher(FetchPolicy())
    try:
        assert (await fetcher.fetch(server + "/a.png", FIELD, image=True)).mime == "image/png"
        for target in (
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.7/x.png",
            "http://[fc00::1]/",
        ):
            err = await refused(fetcher, f"{server}/to?url={target}")
            assert err.code == "url_not_allowed", err.message
    finally:
        await fetcher.close()


async def test_limits_when_private_addresses_are_allowed(server: str) -> None:
    fetcher = Fetcher(FetchPolicy(allow_private=True, max_bytes=1024, timeout=1.0))
    try:
        got = await fetcher.fetch(server + "/photo.png", FIELD, image=True)
        assert (got.mime, got.name, got.data) == ("image/png", "photo.png", png(4, 3))
        got = await fetcher.fetch(f"{server}/to?url=/again.png", FIELD, image=True)
        assert got.name == "again.png"
        assert "more than 3 redirects" in (await refused(fetcher, server + "/loop")).message
        err = await refused(fetcher, server + "/big.png")
        assert err.code == "file_too_large" and "larger than 0.000976562 MiB" in err.message
        err = await refused(fetcher, server + "/page.html")
        assert err.code == "invalid_image" and "text/html" in err.message
        assert (await fetcher.fetch(server + "/page.html", FIELD, image=False)).mime == "text/html"
        assert "within 1 seconds" in (await refused(fetcher, server + "/slow.png")).message
        assert "HTTP 404" in (await refused(fetcher, server + "/a/b")).message
    finally:
        await fetcher.close()
