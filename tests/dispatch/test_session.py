"""Derived session keys: stable over a conversation's turns, distinct across keys and openings."""

from __future__ import annotations

import hashlib
from typing import Any

from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext
from gptgate.dispatch.session import derive_session, session_for


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def assistant(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}


def chat(
    *items: dict[str, Any], origin: Any = "chat", instructions: str | None = "Be brief."
) -> CanonicalRequest:
    return CanonicalRequest(model="gpt-5.5", input=list(items), origin=origin, instructions=instructions)


def test_the_key_is_a_hash_of_key_model_instructions_and_opening() -> None:
    expected = hashlib.sha256(b"key_a\x00gpt-5.5\x00Be brief.\x00hello\x00").hexdigest()[:24]
    assert derive_session(chat(user("hello")), "key_a") == expected
    anon = hashlib.sha256(b"anon\x00gpt-5.5\x00Be brief.\x00hello\x00").hexdigest()[:24]
    assert derive_session(chat(user("hello")), None) == anon
    assert len(expected) == 24


def test_later_turns_keep_the_key_other_openings_and_keys_do_not() -> None:
    first = derive_session(chat(user("hello")), "key_a")
    later = chat(user("hello"), assistant("hi"), user("and then?"))
    assert derive_session(later, "key_a") == first
    assert derive_session(chat(user("other")), "key_a") != first
    assert derive_session(chat(user("hello")), "key_b") != first
    assert derive_session(chat(user("hello"), instructions="Be long."), "key_a") != first
    assert derive_session(chat({"role": "user", "content": "hello"}), "key_a") == first


def test_translated_doors_get_it_as_prompt_cache_key() -> None:
    for origin in ("chat", "gemini", "anthropic"):
        request = chat(user("hello"), origin=origin)
        session = session_for(request, CallContext("req_1"))
        assert session == derive_session(chat(user("hello")), None)
        assert request.prompt_cache_key == session


def test_responses_requests_stay_as_sent_and_own_keys_win() -> None:
    request = chat(user("hello"), origin="responses")
    session = session_for(request, CallContext("req_1"))
    assert session == derive_session(chat(user("hello")), None)
    assert request.prompt_cache_key is None  # sticky on the pool only, never on the wire
    own = chat(user("hello"))
    own.prompt_cache_key = "client-key"
    assert session_for(own, CallContext("req_2")) == "client-key"
    assert session_for(chat(user("x")), CallContext("req_3", session="pinned")) == "pinned"
