"""Signed download links: round trip, expiry, tampering, another key, the base URL."""

from __future__ import annotations

import base64

import orjson
import pytest
from aiohttp.test_utils import make_mocked_request

from gptgate.files.links import CURRENT_REQUEST, LinkInvalid, LinkSigner, request_base

NOW = 1_800_000_000.0


def signer(key: bytes = b"k" * 32) -> LinkSigner:
    return LinkSigner(key, lifetime=3600)


def test_a_link_round_trips_until_it_expires() -> None:
    token = signer().sign("chatgpt_web", "acc_1", "sediment://file_abc", "conv-1", now=NOW)
    link = signer().verify(token, now=NOW + 3599)
    assert (link.upstream, link.account_id, link.pointer, link.conversation_id) == (
        "chatgpt_web",
        "acc_1",
        "sediment://file_abc",
        "conv-1",
    )
    assert link.expires_at == int(NOW) + 3600
    with pytest.raises(LinkInvalid, match="expired"):
        signer().verify(token, now=NOW + 3601)


def test_a_tampered_link_is_refused() -> None:
    token = signer().sign("chatgpt_web", "acc_1", "file-service://file-a", None, now=NOW)
    body, _, mac = token.partition(".")
    fields = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    fields["a"] = "acc_2"  # another account's file
    forged = base64.urlsafe_b64encode(orjson.dumps(fields)).rstrip(b"=").decode() + "." + mac
    for bad in (forged, body + "." + ("B" if mac[0] == "A" else "A") + mac[1:], body, "x.y", ""):
        with pytest.raises(LinkInvalid):
            signer().verify(bad, now=NOW)
    with pytest.raises(LinkInvalid, match="signature"):
        signer(b"o" * 32).verify(token, now=NOW)  # another gateway's key


def test_the_base_url_comes_from_the_request_or_the_setting() -> None:
    plain = make_mocked_request("GET", "/v1/chat/completions", headers={"Host": "127.0.0.1:8080"})
    assert request_base(plain) == "http://127.0.0.1:8080"
    proxied = make_mocked_request(
        "GET",
        "/",
        headers={"Host": "10.0.0.5", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "gw.example.com"},
    )
    assert request_base(proxied) == "https://gw.example.com"
    context = CURRENT_REQUEST.set(proxied)
    try:
        assert signer().url("T") == "https://gw.example.com/files/T"
        fixed = LinkSigner(b"k" * 32, public_base="https://files.example.org/")
        assert fixed.url("T") == "https://files.example.org/files/T"
    finally:
        CURRENT_REQUEST.reset(context)
