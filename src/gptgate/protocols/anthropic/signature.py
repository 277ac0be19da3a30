"""Thinking-block signatures that carry the upstream's encrypted reasoning (client-apis.md §7.3).

An Anthropic client echoes each ``thinking`` block back unmodified with its ``signature``; we
make that signature the vehicle for the Responses reasoning item the block came from, so the
next turn replays it statelessly (``store: false``)::

    gg1.<base64url, no padding, of the JSON array [item_id, encrypted_content]>

``gg1.`` names the format and its version. Anything else (Anthropic's own signatures, another
gateway's, a mangled one) is foreign: the block is dropped, never sent upstream, never an error.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

import orjson

PREFIX: Final = "gg1."


def sign(item_id: str | None, encrypted_content: str | None) -> str:
    payload = orjson.dumps([item_id or "", encrypted_content or ""])
    return PREFIX + base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def unsign(signature: object) -> tuple[str | None, str] | None:
    """``(item_id or None, encrypted_content)`` of a signature we issued, else ``None``."""
    if not isinstance(signature, str) or not signature.startswith(PREFIX):
        return None
    body = signature[len(PREFIX) :]
    try:
        data = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not (isinstance(data, list) and len(data) == 2 and all(isinstance(v, str) for v in data)):
        return None
    item_id, encrypted = data
    if not encrypted:
        return None
    return item_id or None, encrypted
