"""Other gateways' account files: read into entries, written back, read again."""

from __future__ import annotations

import base64
import json
import os

import orjson
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from gptgate.accounts.formats import FormatError, detect_entries, export
from gptgate.accounts.ops import Entry
from gptgate.simulator.tokens import make_access_token
from gptgate.storage import AccountRecord

ACCOUNT = "11111111-2222-4333-8444-555555555555"
ACCESS = make_access_token(ACCOUNT, plan="pro", email="a@example.com")


def record() -> AccountRecord:
    return AccountRecord(
        name="seat-a",
        account_id=ACCOUNT,
        email="a@example.com",
        plan="pro",
        access_token=ACCESS,
        refresh_token="rt_abc",
        id_token="id.tok.en",
        expires_at=1_800_000_000.0,
        created_at=1_700_000_000.0,
    )


def entries(text: str, passphrase: str | None = None) -> list[Entry]:
    found = detect_entries(text, passphrase)
    assert all(isinstance(e, Entry) for _, e in found), found
    return [e for _, e in found if isinstance(e, Entry)]


def test_cliproxyapi_auth_file() -> None:
    (doc,) = export([record()], "cliproxyapi")
    assert doc == {
        "type": "codex",
        "email": "a@example.com",
        "id_token": "id.tok.en",
        "access_token": ACCESS,
        "refresh_token": "rt_abc",
        "account_id": ACCOUNT,
        "last_refresh": "2023-11-14T22:13:20Z",
        "expired": "2027-01-15T08:00:00Z",
    }
    (entry,) = entries(orjson.dumps(doc).decode())  # one auth file, as CLIProxyAPI writes it
    assert (entry.access_token, entry.refresh_token, entry.account_id, entry.email) == (
        ACCESS,
        "rt_abc",
        ACCOUNT,
        "a@example.com",
    )


def test_sub2api_export_round_trip() -> None:
    doc = export([record()], "sub2api")
    assert (doc["type"], doc["version"], doc["proxies"]) == ("sub2api-data", 1, [])
    (account,) = doc["accounts"]
    assert (account["platform"], account["type"], account["name"]) == ("openai", "oauth", "seat-a")
    assert account["credentials"]["chatgpt_account_id"] == ACCOUNT
    (entry,) = entries(orjson.dumps(doc).decode())
    assert (entry.access_token, entry.refresh_token, entry.name) == (ACCESS, "rt_abc", "seat-a")
    other = {"accounts": [{"name": "c", "platform": "anthropic", "type": "oauth", "credentials": {"x": 1}}]}
    ((_, problem),) = detect_entries(orjson.dumps(other).decode())
    assert str(problem) == "not an OpenAI account (platform 'anthropic')"


def test_codex_lb_payload_and_encrypted_bundle() -> None:
    payload = export([record()], "codex-lb")
    (account,) = payload["accounts"]
    assert account["credentials"] == {
        "auth_mode": "chatgpt",
        "access_token": ACCESS,
        "refresh_token": "rt_abc",
        "id_token": "id.tok.en",
    }
    assert (account["alias"], account["plan_type"]) == ("seat-a", "pro")
    (entry,) = entries(orjson.dumps(payload).decode())
    assert (entry.access_token, entry.account_id, entry.name) == (ACCESS, ACCOUNT, "seat-a")

    # the encrypted envelope, made as codex-lb makes it
    salt, nonce = os.urandom(16), os.urandom(12)
    meta = {
        "format": "codex-lb-account-bundle",
        "version": 1,
        "kdf": {"name": "scrypt", "salt": base64.b64encode(salt).decode(), "n": 32768, "r": 8, "p": 1},
        "cipher": {"name": "AES-256-GCM", "nonce": base64.b64encode(nonce).decode()},
    }
    key = Scrypt(salt=salt, length=32, n=32768, r=8, p=1).derive(b"open sesame")
    aad = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    ciphertext = AESGCM(key).encrypt(nonce, orjson.dumps(payload), aad)
    bundle = orjson.dumps({**meta, "ciphertext": base64.b64encode(ciphertext).decode()}).decode()
    (entry,) = entries(bundle, "open sesame")
    assert entry.refresh_token == "rt_abc"
    with pytest.raises(FormatError, match="give its passphrase"):
        detect_entries(bundle)
    with pytest.raises(FormatError, match="wrong passphrase"):
        detect_entries(bundle, "wrong")


def test_gptgate_export_and_plain_tokens_still_read() -> None:
    (doc,) = export([record()], "gptgate")
    assert doc["access_token"] == ACCESS and doc["name"] == "seat-a"
    (entry,) = entries(orjson.dumps([doc]).decode())
    assert entry.name == "seat-a"
    first, second = entries(f"{ACCESS}\nrt_plain\n")
    assert (first.access_token, second.refresh_token) == (ACCESS, "rt_plain")
