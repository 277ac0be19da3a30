"""Tokens at rest: AES-256-GCM per column, bound to the account id and column name.

A stored value reads ``g1:<key id>:<base64url(nonce + ciphertext + tag)>``. The key id (a
keyed hash of the key, revealing nothing of it) lets a wrong key be named as such instead of
failing as corrupt data. The associated data ``<account id>/<column>`` stops a ciphertext from
being moved to another row or column.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from gptgate.storage.base import StoreError, WrongSecretKey

log = logging.getLogger(__name__)

KEY_BYTES = 32
_PREFIX = "g1"
_NONCE_BYTES = 12
_KDF_SALT = b"gptgate secret_key v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenCipher:
    """Encrypts and decrypts token columns with one 32-byte key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a token key is {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        self.key_id = hmac.new(key, b"gptgate key id", hashlib.sha256).hexdigest()[:8]

    def __repr__(self) -> str:
        return f"TokenCipher(key_id={self.key_id!r})"

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_PREFIX}:{self.key_id}:{_b64(nonce + sealed)}"

    def decrypt(self, stored: str, context: str) -> str:
        prefix, _, rest = stored.partition(":")
        key_id, _, body = rest.partition(":")
        if prefix != _PREFIX or not body:
            raise StoreError(f"stored token for {context} is not in the encrypted format")
        if key_id != self.key_id:
            raise WrongSecretKey(
                f"cannot decrypt stored tokens: wrong secret_key? (they were written with key "
                f"{key_id}, this key is {self.key_id})"
            )
        try:
            raw = _unb64(body)
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise WrongSecretKey(
                f"cannot decrypt stored tokens: wrong secret_key? (the token for {context} does not "
                "authenticate)"
            ) from exc


def generate_key() -> str:
    """A new random key in its text form (what the key file and ``secret_key`` hold)."""
    return _b64(secrets.token_bytes(KEY_BYTES))


def key_from_text(text: str) -> bytes:
    """A key from its text form, or derived (scrypt) from a passphrase of 16 characters or more."""
    text = text.strip()
    try:
        raw = _unb64(text)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == KEY_BYTES:
        return raw
    if len(text) < 16:
        raise StoreError("secret_key is too short: use 16 characters or more, or a generated key")
    return Scrypt(salt=_KDF_SALT, length=KEY_BYTES, n=2**14, r=8, p=1).derive(text.encode())


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``, created (mode 0600, directory 0700) on first use.

    Two processes starting at once agree on one key: the new key is written to a private
    temporary file and hard-linked into place, which fails rather than replaces.
    """
    path = path.expanduser()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(generate_key() + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race; use its key
        else:
            log.info("created a new token key in %s", path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & 0o077:
        log.warning("%s is readable by other users (mode %o); chmod 600 it", path, mode & 0o777)
    text = path.read_text().strip()
    try:
        raw = _unb64(text)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise StoreError(f"{path} does not hold a gptgate key ({KEY_BYTES} bytes, base64url)")
    return raw
