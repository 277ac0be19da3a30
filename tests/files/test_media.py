"""Image sizes from header bytes, types from magic, data URLs."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from gptgate.errors import RequestError
from gptgate.files.media import decode_data_url, image_size, sniff_mime


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress((b"\x00" + b"\x00\x00\x00" * width) * height)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


GIF = b"GIF89a" + struct.pack("<HH", 320, 200) + b"\xf7\x00\x00" + b"\x00" * 16
# SOI, an APP0 segment (16 bytes), then a baseline start-of-frame: precision 8, height 768, width 1024
JPEG = (
    b"\xff\xd8"
    + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xc0\x00\x11\x08"
    + struct.pack(">HH", 768, 1024)
    + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
)
WEBP_LOSSY = (
    b"RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00"
    + b"\x00\x00\x00\x9d\x01\x2a"
    + struct.pack("<HH", 640, 480)
)
# lossless: signature 0x2f, then (width-1) and (height-1) as two 14-bit fields
WEBP_LOSSLESS = b"RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f" + ((99) | (49 << 14)).to_bytes(
    4, "little"
)
WEBP_EXTENDED = (
    b"RIFF\x00\x00\x00\x00WEBPVP8X\x00\x00\x00\x00"
    + b"\x00\x00\x00\x00"
    + (1919).to_bytes(3, "little")
    + (1079).to_bytes(3, "little")
)


@pytest.mark.parametrize(
    ("data", "size", "mime"),
    [
        (png(1024, 768), (1024, 768), "image/png"),
        (GIF, (320, 200), "image/gif"),
        (JPEG, (1024, 768), "image/jpeg"),
        (WEBP_LOSSY, (640, 480), "image/webp"),
        (WEBP_LOSSLESS, (100, 50), "image/webp"),
        (WEBP_EXTENDED, (1920, 1080), "image/webp"),
    ],
)
def test_sizes_and_types_from_the_header(data: bytes, size: tuple[int, int], mime: str) -> None:
    assert image_size(data) == size
    assert sniff_mime(data) == mime


def test_unreadable_headers_have_no_size() -> None:
    assert image_size(b"\x89PNG\r\n\x1a\n") is None
    assert image_size(b"\xff\xd8\xff\xe0\x00") is None
    assert image_size(b"plain text") is None
    assert sniff_mime(b"plain text") is None
    assert sniff_mime(b"%PDF-1.7\n") == "application/pdf"


def test_data_urls() -> None:
    data = png(2, 3)
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    assert decode_data_url(url, "messages[0].content[1].image_url") == ("image/png", data)
    with pytest.raises(RequestError) as refused:
        decode_data_url("data:text/plain,hello", "f")
    assert refused.value.param == "f" and "base64" in refused.value.message
    with pytest.raises(RequestError):
        decode_data_url("data:image/png;base64,abc", "f")
