"""``thoughtSignature``: how the upstream's encrypted reasoning rides through a Gemini client.

Gemini clients keep the opaque ``thoughtSignature`` of a part and send it back with the history;
that is the only channel through which the upstream's ``encrypted_content`` of a reasoning item
can come back to us (client-apis.md §7.6). The signature is base64 of bytes, as Gemini's own
are (google-genai decodes it to ``bytes`` and re-encodes it with the URL-safe alphabet), laid
out as::

    b"gptgate:rs:v01:" + encrypted_content (UTF-8)

The 15-byte magic is a multiple of 3, so every signature we issue starts with the same 20
base64 characters (``MARK``) in either alphabet; ``v01`` versions the layout. Anything else a
client sends (Gemini's own signatures, another proxy's) is foreign and is dropped.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

MAGIC: Final = b"gptgate:rs:v01:"
MARK: Final = base64.b64encode(MAGIC).decode()
_TO_URLSAFE: Final = str.maketrans("+/", "-_")


def encode(encrypted_content: str) -> str:
    return base64.urlsafe_b64encode(MAGIC + encrypted_content.encode()).decode()


def decode(signature: str) -> str | None:
    """The ``encrypted_content`` carried by one of our signatures; ``None`` for a foreign one."""
    if not signature.startswith(MARK):
        return None
    text = signature.translate(_TO_URLSAFE)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        content = raw[len(MAGIC) :].decode()
    except (binascii.Error, ValueError):
        return None
    return content if raw.startswith(MAGIC) and content else None
