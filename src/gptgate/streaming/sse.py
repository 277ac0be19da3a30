"""Incremental SSE decoding (bytes in, one payload per record out) and SSE framing.

The decoder follows the shape of httpx's decoders: ``feed(chunk) -> list``, ``flush() -> list``.
It works on bytes. A read whose records all have the common shape (an optional ``event:`` line,
then one ``data:`` line) is split by one regular-expression pass in C; any other read (comments,
``id:`` lines, data over several lines) is walked record by record.
"""

from __future__ import annotations

import re
from typing import Final

#: the common record (``event: <type>`` optional, then one ``data: <payload>`` line), captured;
#: or else any one line, captured empty. Matched from a record's start, the first branch takes
#: the whole record or nothing, so a read made of common records only comes out as their
#: payloads, and any other line shows as an empty capture: one pass both splits and checks
#: (a common record with an empty payload is walked as the others are).
_RECORD: Final = re.compile(rb"(?:event: [^\n]*+\n)?data: ([^\n]*+)\n\n|[^\n]*+\n")


class SSEDecoder:
    """Split an SSE byte stream into records; return each record's ``data`` bytes.

    ``event:``, ``id:``, ``retry:`` and comment lines are skipped (Codex and the Responses API
    repeat the event name inside the JSON). Multi-line ``data`` is joined with ``\\n`` as the
    SSE spec says. Records without data (comments, keep-alives) yield nothing.
    """

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buf = self._buf + chunk if self._buf else chunk
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        last = buf.rfind(b"\n\n") + 2
        if last < 2:
            self._buf = buf
            return []
        # the fast path: the read is common records only, each with its one data line
        found: list[bytes] = _RECORD.findall(buf, 0, last)
        if b"" not in found:
            self._buf = buf[last:]
            return found
        out: list[bytes] = []
        find = buf.find
        start = 0
        while (end := find(b"\n\n", start)) >= 0:
            j = find(b"data:", start, end)
            # the common record, inline: one data line, the record's last (after event: ...)
            if j >= 0 and (j == start or buf[j - 1] == 0x0A) and find(b"\n", j, end) < 0:
                out.append(buf[j + 6 : end] if buf[j + 5] == 0x20 else buf[j + 5 : end])
            elif (data := _record_data(buf, start, end)) is not None:
                out.append(data)
            start = end + 2
        self._buf = buf[start:]
        return out

    def flush(self) -> list[bytes]:
        """The last record when the stream ended without its blank line."""
        buf, self._buf = self._buf, b""
        if not buf.strip():
            return []
        data = _record_data(buf, 0, len(buf.rstrip(b"\n")))
        return [] if data is None else [data]


def _record_data(buf: bytes, start: int, end: int) -> bytes | None:
    j = buf.find(b"data:", start, end)
    if j < 0:
        return None
    if j == start or buf[j - 1] == 0x0A:
        nl = buf.find(b"\n", j, end)
        if nl < 0:  # the common case: data is the record's last line
            return buf[j + 5 : end].removeprefix(b" ")
    lines = buf[start:end].split(b"\n")
    parts = [ln[5:].removeprefix(b" ") for ln in lines if ln.startswith(b"data:")]
    return b"\n".join(parts) if parts else None


def frame(data: bytes, event: str | None = None) -> bytes:
    """One SSE record."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"
