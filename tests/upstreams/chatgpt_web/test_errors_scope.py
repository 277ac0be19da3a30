"""A 404 is about the request: on a fresh turn (every turn gptgate sends) and on a follow-up."""

from __future__ import annotations

from gptgate import errors
from gptgate.upstreams.chatgpt_web.errors import classify

GIZMO_GONE = b'{"detail": {"code": "gizmo_not_found", "message": "Gizmo not found"}}'


def test_a_404_on_a_fresh_turn_is_request_scoped_and_says_so() -> None:
    exc = classify(404, {"content-type": "application/json"}, GIZMO_GONE)
    assert type(exc) is errors.UpstreamRequestRejected  # not an AccountError: no account cools
    assert not exc.retryable
    assert (exc.status, exc.code, exc.upstream_status) == (404, "gizmo_not_found", 404)
    assert exc.message == "the web backend found nothing to answer this turn with (HTTP 404): Gizmo not found"
    bare = classify(404, {}, b"")
    assert (bare.status, bare.code) == (404, "upstream_not_found")
    assert (
        bare.message
        == "the web backend found nothing to answer this turn with (HTTP 404): upstream answered HTTP 404"
    )


def test_a_404_on_a_follow_up_is_conversation_not_found() -> None:
    exc = classify(404, {}, b'{"detail": "Conversation not found"}', follow_up=True)
    assert type(exc) is errors.UpstreamRequestRejected and not exc.retryable
    assert exc.code == "conversation_not_found"
    assert exc.message == "the conversation is no longer kept by the web backend: Conversation not found"
