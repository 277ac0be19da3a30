from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- the decoder against the SSE specification's own reading, on random streams split anywhere

_TEXT = st.text(st.sampled_from('ab {}":,data\\xé'), max_size=12).map(lambda t: t.encode())
_LINE = st.one_of(
    st.tuples(st.just(b"data: "), _TEXT),
    st.tuples(st.just(b"data:"), _TEXT),
    st.tuples(st.just(b"event: "), _TEXT),
    st.tuples(st.just(b"id: "), _TEXT),
    st.tuples(st.just(b": "), _TEXT),
)
_RECORDS = st.lists(st.lists(_LINE, min_size=1, max_size=4), max_size=8)


def _spec(records: list[list[tuple[bytes, bytes]]]) -> list[bytes]:
    """What a record's data is, read the way the SSE specification reads it."""
    out = []
    for record in records:
        lines = [field + value for field, value in record]
        data = [ln[5:].removeprefix(b" ") for ln in lines if ln.startswith(b"data:")]
        if data:
            out.append(b"\n".join(data))
    return out


@settings(max_examples=300, deadline=None)
@given(records=_RECORDS, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_any_stream_split_anywhere_reads_as_the_specification_says(
    records: list[list[tuple[bytes, bytes]]], cuts: list[int]
) -> None:
    wire = b"".join(b"\n".join(field + value for field, value in record) + b"\n\n" for record in records)
    decoder, got, start = SSEDecoder(), [], 0
    for cut in sorted(c for c in cuts if c < len(wire)):
        got += decoder.feed(wire[start:cut])
        start = cut
    got += decoder.feed(wire[start:]) + decoder.flush()
    assert got == _spec(records)
