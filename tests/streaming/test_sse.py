from __future__ import annotations

from gptgate.streaming.sse import SSEDecoder, frame


def test_records_split_anywhere() -> None:
    body = b'event: a\ndata: {"x":1}\n\nevent: b\ndata: {"y":2}\n\n'
    for cut in range(len(body)):
        d = SSEDecoder()
        assert d.feed(body[:cut]) + d.feed(body[cut:]) + d.flush() == [b'{"x":1}', b'{"y":2}']


def test_crlf_comments_multiline_and_missing_final_blank_line() -> None:
    d = SSEDecoder()
    out = d.feed(b": ping\r\n\r\ndata: line1\r\ndata: line2\r\n\r\nid: 3\ndata:nospace")
    assert out == [b"line1\nline2"]
    assert d.flush() == [b"nospace"]


def test_frame() -> None:
    assert frame(b"{}") == b"data: {}\n\n"
    assert frame(b"{}", "ping") == b"event: ping\ndata: {}\n\n"
