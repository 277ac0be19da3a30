"""Client key secrets: how they are made, recognised and hashed.

A secret is ``gg-`` and 40 base62 characters (about 238 random bits), so a leaked one is easy to
recognise (and to scan for). Only its SHA-256 is stored: a fast hash is enough for a secret of
that much entropy, and it lets the gateway find the key in one dict lookup per request. The
display prefix (``gg-`` and the first 6 characters) and the id (``key_`` and 10 hex digits)
are not secret and name the key everywhere else.
"""

from __future__ import annotations

import hashlib
import secrets
import string

SECRET_PREFIX = "gg-"
SECRET_LENGTH = 40
PREFIX_CHARS = 6
ALPHABET = string.digits + string.ascii_letters


def new_secret() -> str:
    return SECRET_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[: len(SECRET_PREFIX) + PREFIX_CHARS]


def new_key_id() -> str:
    return "key_" + secrets.token_hex(5)


def looks_like_secret(value: str) -> bool:
    """Shaped like one of ours (whether or not any key has it)."""
    body = value[len(SECRET_PREFIX) :]
    return value.startswith(SECRET_PREFIX) and len(body) == SECRET_LENGTH and all(c in ALPHABET for c in body)
