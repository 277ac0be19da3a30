"""Egress proxies: per account, from the global list, dead ones; both transports, real sockets."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gptgate.accounts.model import Account
from gptgate.simulator.server import RunningSimulator
from gptgate.upstreams.egress import BaseURLs, Egress, check_proxy, mask
from gptgate.upstreams.transport import AiohttpTransport
from tests.support import start_gateway
from tests.support import test_account as make_account
from tests.upstreams.proxy_servers import HttpProxy, ProxyServer, Socks5Proxy, closed_port

TRANSPORTS = ["aiohttp", "curl_cffi"]


async def ask(base: str, text: str = "hi") -> tuple[int, Any]:
    """One turn; a different ``text`` is a different conversation (a conversation's turns stay on
    one account through its derived session key)."""
    payload = {"model": "gpt-5.5", "input": text, "stream": False}
    async with aiohttp.ClientSession() as http, http.post(base + "/v1/responses", json=payload) as resp:
        return resp.status, await resp.json(content_type=None)


def account(account_id: str, proxy: str | None = None) -> Account:
    acc = make_account(account_id)
    acc.proxy = proxy
    return acc


def served_ids(simulator: RunningSimulator) -> list[str]:
    return [
        r["headers"].get("chatgpt-account-id", "")
        for r in simulator.state.requests
        if r["path"].endswith("/responses")
    ]


@pytest.fixture
async def proxies() -> AsyncIterator[list[ProxyServer]]:
    started: list[ProxyServer] = []
    yield started
    for proxy in started:
        await proxy.close()


# -- units ------------------------------------------------------------------------------------


def test_mask_hides_only_the_password() -> None:
    assert mask("socks5://bob:s3cret@10.0.0.1:1080") == "socks5://bob:***@10.0.0.1:1080"
    assert mask("http://10.0.0.1:3128") == "http://10.0.0.1:3128"
    assert "s3cret" not in mask("http://bob:s3cret@[::1:bad")


@pytest.mark.parametrize(
    "url",
    ["http://h:3128", "https://u:p@h", "socks4://h:1", "socks4a://h:1", "socks5://h:1", "socks5h://u:p@h:1"],
)
def test_check_proxy_accepts_the_supported_schemes(url: str) -> None:
    assert check_proxy(url) == url


@pytest.mark.parametrize("url", ["ftp://h:21", "socks5://u:s3cret@h", "h:3128", "http://:80"])
def test_check_proxy_refuses_others_without_the_password(url: str) -> None:
    with pytest.raises(ValueError) as info:
        check_proxy(url)
    assert "s3cret" not in str(info.value)


def test_global_list_assigns_each_account_one_proxy_deterministically() -> None:
    pool = ["http://p0:1", "http://p1:1", "socks5://p2:1"]
    accounts = [account(f"acct-{n}") for n in range(60)]
    first = [Egress(pool).proxy_for(a) for a in accounts]
    again = [Egress(list(pool)).proxy_for(a) for a in accounts]  # another process, same answer
    assert first == again and set(first) == set(pool)
    own = account("acct-own", "socks5://mine:1")
    assert Egress(pool).proxy_for(own) == "socks5://mine:1"
    assert Egress().proxy_for(accounts[0]) is None
    with pytest.raises(ValueError):
        Egress(["gopher://x:1"])


def test_base_urls_prefer_healthy_then_first(monkeypatch: pytest.MonkeyPatch) -> None:
    bases = BaseURLs(["http://a/", "http://b", "http://c", "http://a"], down_for=30)
    assert bases.urls == ("http://a", "http://b", "http://c") and list(bases.order()) == [0, 1, 2]
    bases.down(0)
    assert list(bases.order()) == [1, 2, 0]
    bases.down(1)
    bases.down(2)
    assert list(bases.order()) == [0, 1, 2]  # all down: the first anyway
    bases.up(1)
    assert list(bases.order()) == [1, 0, 2]
    clock = time.monotonic() + 31
    monkeypatch.setattr("gptgate.upstreams.egress.time.monotonic", lambda: clock)
    assert list(bases.order()) == [0, 1, 2]
    single = BaseURLs(["http://only"], down_for=30)
    single.down(0)
    assert single.order() == (0,)


# -- through real proxies -----------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    "kind", ["http", "http-auth", "socks5", "socks5-auth", "socks5h-auth"], ids=lambda k: k
)
async def test_account_with_a_proxy_goes_through_it_and_others_go_direct(
    simulator: RunningSimulator, proxies: list[ProxyServer], transport: str, kind: str
) -> None:
    auth = ("bob", "s3cret") if kind.endswith("-auth") else None
    scheme = kind.removesuffix("-auth")
    proxy = await (HttpProxy(auth) if scheme == "http" else Socks5Proxy(auth, scheme)).start()
    proxies.append(proxy)
    accounts = [account("acct-proxied", proxy.url), account("acct-direct")]
    served = await start_gateway(simulator.base_url, accounts, codex_transport=transport)
    try:
        for n in range(4):
            status, body = await ask(served.base_url, f"conversation {n}")
            assert status == 200 and body["status"] == "completed"
    finally:
        await served.close()
    assert served_ids(simulator).count("acct-proxied") == 2
    assert served_ids(simulator).count("acct-direct") == 2
    assert b"acct-proxied" in proxy.seen and b"acct-direct" not in proxy.seen
    assert 1 <= proxy.connections <= 2 and proxy.auth_failures == 0  # kept alive, reused
    assert proxy.targets[0].endswith(f":{simulator.port}")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_socks5h_resolves_the_host_at_the_proxy(
    simulator: RunningSimulator, proxies: list[ProxyServer], transport: str
) -> None:
    proxy = await Socks5Proxy(scheme="socks5h").start()
    proxies.append(proxy)
    upstream = f"http://localhost:{simulator.port}"
    served = await start_gateway(upstream, [account("acct-h", proxy.url)], codex_transport=transport)
    try:
        assert (await ask(served.base_url))[0] == 200
    finally:
        await served.close()
    assert proxy.domains == ["localhost"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_global_list_sends_an_account_through_its_own_proxy(
    simulator: RunningSimulator, proxies: list[ProxyServer], transport: str
) -> None:
    pair = [await HttpProxy().start(), await Socks5Proxy().start()]
    proxies.extend(pair)
    acc = account("acct-global")
    chosen = Egress([p.url for p in pair]).proxy_for(acc)
    served = await start_gateway(
        simulator.base_url, [acc], codex_transport=transport, proxies=[p.url for p in pair]
    )
    try:
        for _ in range(3):
            assert (await ask(served.base_url))[0] == 200
    finally:
        await served.close()
    used = [p for p in pair if p.connections]
    assert [p.url for p in used] == [chosen]
    assert used[0].seen.count(b"acct-global") == 3


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("scheme", ["http", "socks5"])
async def test_dead_proxy_cools_its_account_and_the_request_moves_on(
    simulator: RunningSimulator, transport: str, scheme: str, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"{scheme}://bob:s3cret@127.0.0.1:{closed_port()}"
    broken, healthy = account("acct-broken", dead), account("acct-fine")
    served = await start_gateway(simulator.base_url, [broken, healthy], codex_transport=transport)
    try:
        with caplog.at_level(logging.WARNING):
            results = [await ask(served.base_url, f"conversation {n}") for n in range(3)]
    finally:
        await served.close()
    assert [status for status, _ in results] == [200, 200, 200]
    assert served_ids(simulator) == ["acct-fine"] * 3
    assert broken.cooldown_reason == "egress_proxy_unavailable"
    assert "bob:***@127.0.0.1" in caplog.text and "s3cret" not in caplog.text


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_dead_proxy_alone_is_a_clear_upstream_error(
    simulator: RunningSimulator, transport: str
) -> None:
    dead = f"socks5://bob:s3cret@127.0.0.1:{closed_port()}"
    served = await start_gateway(simulator.base_url, [account("acct-alone", dead)], codex_transport=transport)
    try:
        status, body = await ask(served.base_url)
    finally:
        await served.close()
    assert status in (429, 503), body
    assert "egress_proxy_unavailable" in str(body) and "s3cret" not in str(body)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("scheme", ["http", "socks5"])
async def test_wrong_proxy_credentials_are_the_proxy_failure(
    simulator: RunningSimulator, proxies: list[ProxyServer], transport: str, scheme: str
) -> None:
    proxy = await (HttpProxy(("bob", "right")) if scheme == "http" else Socks5Proxy(("bob", "right"))).start()
    proxies.append(proxy)
    wrong = proxy.url.replace("bob:right", "bob:wrong")
    acc = account("acct-wrong", wrong)
    served = await start_gateway(simulator.base_url, [acc], codex_transport=transport)
    try:
        status, body = await ask(served.base_url)
    finally:
        await served.close()
    assert status in (429, 503) and acc.cooldown_reason == "egress_proxy_unavailable", body
    assert proxy.auth_failures >= 1 and served_ids(simulator) == []


async def test_aiohttp_keeps_one_session_per_socks_proxy_and_closes_them(
    simulator: RunningSimulator, proxies: list[ProxyServer]
) -> None:
    proxy = await Socks5Proxy().start()
    proxies.append(proxy)
    transport = AiohttpTransport(connect_timeout=5, idle_timeout=5, limit=10)
    url = simulator.base_url + "/backend-api/codex/models?client_version=1"
    for _ in range(3):
        status, _, _ = await transport.get(url, {}, proxy.url)
        assert status == 401  # no token: the simulator answered through the proxy
    status, _, _ = await transport.get(url, {})  # direct: the default session
    sessions = [s for s, _ in transport._routes.values()]
    await transport.close()
    assert proxy.connections == 1 and len(sessions) == 1 and sessions[0].closed
