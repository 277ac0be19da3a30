"""Property-based requests on every route of every door against a real gateway (issue 13):
never a 5xx, never a hang, never traceback text; every 4xx in the door's own envelope.

Deterministic in CI (``derandomize``), bounded (a few hundred examples, well under a minute).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.envelopes import Door, error_of
from tests.fuzz.served import TRACEBACK_MARKERS
from tests.fuzz.threaded import KEY, request, threaded_gateway

FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: (method, path, door) for every route the gateway serves
ROUTES: list[tuple[str, str, Door]] = [
    *[
        (m, p + s, "openai")
        for p in ("/v1", "", "/codex/v1")
        for m, s in (
            ("POST", "/chat/completions"),
            ("POST", "/responses"),
            ("GET", "/models"),
            ("GET", "/models/gpt-5.5"),
        )
    ],
    *[
        (m, p + s, "anthropic")
        for p in ("/v1", "")
        for m, s in (("POST", "/messages"), ("POST", "/messages/count_tokens"))
    ],
    *[
        ("POST", p + "/models/gemini-2.5-pro:" + verb, "gemini")
        for p in ("/v1beta", "/v1")
        for verb in ("generateContent", "streamGenerateContent", "countTokens")
    ],
    ("GET", "/v1beta/models", "gemini"),
]

SEEDS: dict[Door, dict[str, Any]] = {
    "openai": {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}], "input": "hi"},
    "anthropic": {
        "model": "claude-sonnet-4-5",
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "hi"}],
    },
    "gemini": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
}
FIELDS = [
    "model",
    "messages",
    "input",
    "contents",
    "tools",
    "tool_choice",
    "stream",
    "temperature",
    "top_p",
    "frequency_penalty",
    "stop",
    "stop_sequences",
    "max_tokens",
    "reasoning",
    "text",
    "metadata",
    "system",
    "generationConfig",
    "systemInstruction",
    "toolConfig",
    "response_format",
    "thinking",
    "prompt_cache_key",
    "n",
    "instructions",
    "include",
    "parallel_tool_calls",
    "reasoning_effort",
    "stream_options",
]

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["", "\r\n", "\x00", "user", "assistant", "text", "function", "auto", "high"]),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [*FIELDS, "type", "role", "content", "parts", "text", "name", "arguments", "effort"]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@st.composite
def bodies(draw: st.DrawFn, door: Door) -> bytes:
    kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "raw", "deep", "json"]))
    if kind == "raw":
        return draw(st.binary(max_size=64))
    if kind == "deep":
        depth = draw(st.integers(100, 1100))
        return b'{"model":' + b"[" * depth + b"]" * depth + b"}"
    if kind == "json":
        return orjson.dumps(draw(json_value))
    body = dict(SEEDS[door])
    for key in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        body[key] = draw(json_value)
    for key in draw(st.lists(st.sampled_from(sorted(body)), max_size=1)):
        body.pop(key, None)
    return orjson.dumps(body)


header_value = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
hostile_headers = st.dictionaries(
    st.sampled_from(
        ["content-encoding", "anthropic-version", "x-goog-api-client", "session_id", "x-api-key", "accept"]
    ),
    st.one_of(header_value, st.sampled_from(["gzip", "br", "zstd", "deflate", "identity", "2023-06-01"])),
    max_size=2,
)
queries = st.one_of(
    st.just(""), st.sampled_from(["?alt=sse", "?alt=xml", "?key=sk-wrong", "?pageSize=-1", "?pageToken=%ff"])
)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with threaded_gateway() as port:
        yield port


def check(status: int, headers: dict[str, str], body: bytes, door: Door) -> None:
    assert status < 500, (status, body[:500])
    text = body.decode("utf-8", "replace")
    assert not any(marker in text for marker in TRACEBACK_MARKERS), text[:500]
    assert headers.get("server") == "gptgate"
    if status >= 400 and status != 405:
        error_of(door, body)


@FUZZ
@given(route=st.sampled_from(ROUTES), data=st.data())
def test_every_route_survives_hostile_bodies(
    port: int, route: tuple[str, str, Door], data: st.DataObject
) -> None:
    method, path, door = route
    body = data.draw(bodies(door)) if method == "POST" else None
    headers = {
        "authorization": "Bearer " + KEY,
        "content-type": "application/json",
        **data.draw(hostile_headers),
    }
    status, got, answer = request(port, method, path + data.draw(queries), body, headers)
    check(status, got, answer, door)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
    path=st.sampled_from(
        [r[1] for r in ROUTES]
        + ["/v1/nothing", "/v1beta/models/x:y:z", "/v1beta/models/%3A", "/admin/x", "/"]
    ),
    key=st.one_of(st.just(KEY), header_value),
)
def test_methods_paths_and_keys(port: int, method: str, path: str, key: str) -> None:
    status, headers, body = request(
        port,
        method,
        path,
        b"{}" if method in ("POST", "PUT", "PATCH") else None,
        {"authorization": "Bearer " + key},
    )
    assert status < 500, (status, body[:300])
    assert headers.get("server") == "gptgate"
    text = body.decode("utf-8", "replace")
    assert not any(marker in text for marker in TRACEBACK_MARKERS), text[:300]
