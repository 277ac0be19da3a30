"""Account files of the other gateways, read into gptgate entries and written back.

=============  ==============================================================================
format         shape (facts from each project's own import/export code)
=============  ==============================================================================
gptgate        ``[{"name", "email", "account_id", "access_token", "refresh_token", "id_token",
               "session_token", "proxy"}]`` (also what ``gptgate accounts import`` reads)
cliproxyapi    one auth file per account (``codex-<email>.json``): ``{"type": "codex", "email",
               "id_token", "access_token", "refresh_token", "account_id", "last_refresh",
               "expired"}`` (RFC 3339 times); an export is a JSON array of them
sub2api        ``{"type": "sub2api-data", "version": 1, "exported_at", "proxies": [...],
               "accounts": [{"name", "platform": "openai", "type": "oauth", "credentials":
               {"access_token", "refresh_token", "id_token", "chatgpt_account_id", "email",
               "expires_at"}, "concurrency", "priority", "proxy_key"?}]}``
codex-lb       the account bundle's payload ``{"version": 1, "created_at", "accounts":
               [{"email", "chatgpt_account_id", "plan_type", "alias", "credentials":
               {"auth_mode": "chatgpt", "access_token", "refresh_token", "id_token"}}]}``;
               its encrypted envelope (``"format": "codex-lb-account-bundle"``: scrypt +
               AES-256-GCM) is opened with the bundle's passphrase
=============  ==============================================================================

:func:`detect_entries` reads any of them (and everything ``read_entries`` reads: auth.json,
token lines); :func:`export` writes one. Exports hold live tokens: that is their point, so
the admin API gives them only to an admin who confirmed.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from gptgate.accounts.ops import Entry, entry_from_object, read_entries
from gptgate.storage import AccountRecord

ExportFormat = Literal["gptgate", "cliproxyapi", "sub2api", "codex-lb"]
FORMATS: tuple[ExportFormat, ...] = ("gptgate", "cliproxyapi", "sub2api", "codex-lb")
CODEX_LB_ENVELOPE = "codex-lb-account-bundle"


class FormatError(ValueError):
    """A file this module recognises but cannot read (message safe to show: no token in it)."""


def _iso(when: float | None) -> str | None:
    if when is None:
        return None
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# -- reading
def detect_entries(text: str, passphrase: str | None = None) -> list[tuple[str, Entry | ValueError]]:
    """(where, entry or what is wrong) for any supported file; unknown JSON falls to ``read_entries``."""
    stripped = text.strip()
    try:
        doc = orjson.loads(stripped) if stripped[:1] in ("{", "[") else None
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and doc.get("format") == CODEX_LB_ENVELOPE:
        doc = _open_codex_lb(doc, passphrase)
    if isinstance(doc, dict) and isinstance(doc.get("accounts"), list):
        return [(f"account {n}", _attempt(item)) for n, item in enumerate(doc["accounts"], 1)]
    if isinstance(doc, list) and any(isinstance(i, dict) and _foreign(i) for i in doc):
        return [(f"item {n}", _attempt(item)) for n, item in enumerate(doc, 1)]
    if isinstance(doc, dict) and _foreign(doc):
        return [("file", _attempt(doc))]
    return list(read_entries(text))


def _foreign(obj: dict[str, Any]) -> bool:
    return obj.get("type") == "codex" or isinstance(obj.get("credentials"), dict)


def _attempt(obj: Any) -> Entry | ValueError:
    try:
        return entry_from_foreign(obj)
    except ValueError as exc:
        return exc


def entry_from_foreign(obj: Any) -> Entry:
    """One account object of any supported format (sub2api and codex-lb keep tokens under
    ``credentials``; CLIProxyAPI's codex files are flat, like gptgate's own)."""
    if not isinstance(obj, dict):
        raise ValueError("expected an account object")
    creds = obj.get("credentials")
    if not isinstance(creds, dict):
        return entry_from_object({k: v for k, v in obj.items() if k in _FLAT})
    if obj.get("platform") not in (None, "openai"):
        raise ValueError(f"not an OpenAI account (platform {obj.get('platform')!r})")
    return Entry(
        access_token=_str(creds.get("access_token")),
        refresh_token=_str(creds.get("refresh_token")),
        id_token=_str(creds.get("id_token")),
        account_id=_str(creds.get("chatgpt_account_id")) or _str(obj.get("chatgpt_account_id")),
        email=_str(creds.get("email")) or _str(obj.get("email")),
        name=_str(obj.get("alias")) or _str(obj.get("name")),
    )


_FLAT = frozenset(
    {"access_token", "refresh_token", "id_token", "session_token", "account_id", "email", "name", "proxy"}
    | {"accessToken", "refreshToken", "idToken", "sessionToken", "accountId", "tokens"}
)


def _open_codex_lb(envelope: dict[str, Any], passphrase: str | None) -> Any:
    """The payload of an encrypted codex-lb bundle (scrypt n=2^15 r=8 p=1, AES-256-GCM, the
    envelope without its ciphertext as associated data, canonical JSON)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    if not passphrase:
        raise FormatError("this codex-lb bundle is encrypted: give its passphrase")
    try:
        kdf, cipher = envelope["kdf"], envelope["cipher"]
        salt = base64.b64decode(kdf["salt"])
        nonce = base64.b64decode(cipher["nonce"])
        ciphertext = base64.b64decode(envelope["ciphertext"])
        key = Scrypt(salt=salt, length=32, n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"])).derive(
            passphrase.encode()
        )
        metadata = {k: v for k, v in envelope.items() if k != "ciphertext"}
        aad = json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        return orjson.loads(AESGCM(key).decrypt(nonce, ciphertext, aad))
    except (KeyError, TypeError, ValueError, InvalidTag, orjson.JSONDecodeError) as exc:
        raise FormatError("cannot open this codex-lb bundle: wrong passphrase or damaged file") from exc


# -- writing
def export(records: list[AccountRecord], fmt: ExportFormat) -> Any:
    """The JSON document of ``records`` in ``fmt`` (tokens included)."""
    if fmt == "cliproxyapi":
        return [_cliproxyapi(r) for r in records]
    if fmt == "sub2api":
        return {
            "type": "sub2api-data",
            "version": 1,
            "exported_at": _iso(_now()),
            "proxies": [],
            "accounts": [_sub2api(r) for r in records],
        }
    if fmt == "codex-lb":
        return {"version": 1, "created_at": _iso(_now()), "accounts": [_codex_lb(r) for r in records]}
    return [_gptgate(r) for r in records]


def _now() -> float:
    return datetime.now(UTC).timestamp()


def _gptgate(r: AccountRecord) -> dict[str, Any]:
    return {
        "name": r.name,
        "email": r.email,
        "account_id": r.account_id,
        "access_token": r.access_token,
        "refresh_token": r.refresh_token,
        "id_token": r.id_token,
        "session_token": r.session_token,
        "proxy": r.proxy,
    }


def _cliproxyapi(r: AccountRecord) -> dict[str, Any]:
    return {
        "type": "codex",
        "email": r.email or "",
        "id_token": r.id_token or "",
        "access_token": r.access_token or "",
        "refresh_token": r.refresh_token or "",
        "account_id": r.account_id or "",
        "last_refresh": _iso(r.last_refresh_at or r.created_at),
        "expired": _iso(r.expires_at),
    }


def _sub2api(r: AccountRecord) -> dict[str, Any]:
    credentials = {
        "access_token": r.access_token,
        "refresh_token": r.refresh_token,
        "id_token": r.id_token,
        "chatgpt_account_id": r.account_id,
        "email": r.email,
        "expires_at": _iso(r.expires_at),
    }
    return {
        "name": r.name,
        "platform": "openai",
        "type": "oauth",
        "credentials": {k: v for k, v in credentials.items() if v},
        "concurrency": 3,
        "priority": 50,
    }


def _codex_lb(r: AccountRecord) -> dict[str, Any]:
    return {
        "email": r.email or r.name,
        "chatgpt_account_id": r.account_id,
        "alias": r.name,
        "plan_type": r.plan or "unknown",
        "credentials": {
            "auth_mode": "chatgpt",
            "access_token": r.access_token or "",
            "refresh_token": r.refresh_token or "",
            "id_token": r.id_token or "",
        },
    }
