"""Encoder bodies and headers, model names, the proof of work and error classification, literally."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from itertools import count

import pytest

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.canonical.request import CanonicalRequest
from gptgate.simulator.web import proof_meets
from gptgate.upstreams.chatgpt_web import sentinel
from gptgate.upstreams.chatgpt_web.encode import ConversationOptions, FollowUp, build_headers, encode_body
from gptgate.upstreams.chatgpt_web.errors import ModelCapExceeded, classify
from gptgate.upstreams.chatgpt_web.models import WebModel, parse_models, resolve


def ids() -> object:
    numbers = count(1)
    return lambda: f"id-{next(numbers)}"


def request() -> CanonicalRequest:
    return CanonicalRequest(
        model="gpt-4o",
        instructions="Be brief.",
        origin="chat",
        input=[
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello"}]},
            {"type": "message", "role": "user", "content": "Say hi"},
        ],
    )


def message(mid: str, role: str, text: str) -> dict[str, object]:
    return {
        "id": mid,
        "author": {"role": role},
        "content": {"content_type": "text", "parts": [text]},
        "metadata": {},
    }


def test_new_chat_body() -> None:
    body = encode_body(request(), WebModel("gpt-4o"), ConversationOptions(), make_id=ids())  # type: ignore[arg-type]
    assert body == {
        "action": "next",
        "messages": [
            message("id-1", "system", "Be brief."),
            message("id-2", "user", "Hi"),
            message("id-3", "assistant", "Hello"),
            message("id-4", "user", "Say hi"),
        ],
        "parent_message_id": "client-created-root",
        "model": "gpt-4o",
        "conversation_mode": {"kind": "primary_assistant"},
        "history_and_training_disabled": True,
        "force_use_sse": True,
        "supported_encodings": ["v1"],
        "system_hints": [],
        "timezone_offset_min": 0,
        "timezone": "UTC",
        "variant_purpose": "comparison_implicit",
    }


def test_follow_up_gizmo_with_history() -> None:
    options = ConversationOptions(history_disabled=False)
    follow = FollowUp("conv-1", "msg-9")
    body = encode_body(request(), WebModel("gpt-4o", "g-p-abc"), options, follow_up=follow, make_id=ids())  # type: ignore[arg-type]
    assert body["messages"] == [message("id-4", "user", "Say hi")]
    assert (body["conversation_id"], body["parent_message_id"]) == ("conv-1", "msg-9")
    assert body["conversation_mode"] == {"kind": "gizmo_interaction", "gizmo_id": "g-p-abc"}
    assert "history_and_training_disabled" not in body


def test_headers_team_account_and_gateway_key() -> None:
    account = Account(access_token="eyJtoken", account_id="team-1")
    options = ConversationOptions(language="de-DE", extra_headers={"authkey": "k"})
    assert build_headers(account, options, base_url="https://gw.example", device_id="dev-1") == {
        "authorization": "Bearer eyJtoken",
        "content-type": "application/json",
        "accept": "text/event-stream",
        "oai-device-id": "dev-1",
        "oai-language": "de-DE",
        "origin": "https://gw.example",
        "referer": "https://gw.example/",
        "chatgpt-account-id": "team-1",
        "authkey": "k",
    }


def test_images_and_tools_are_unsupported_for_now() -> None:
    req = request()
    req.input = [{"type": "message", "role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]
    with pytest.raises(errors.UnsupportedFeature, match="input_image"):
        encode_body(req, WebModel("gpt-4o"), ConversationOptions())
    req = request()
    req.input.append({"type": "function_call_output", "call_id": "c", "output": "x"})
    with pytest.raises(errors.UnsupportedFeature, match="function_call_output"):
        encode_body(req, WebModel("gpt-4o"), ConversationOptions())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gpt-3.5-turbo", WebModel("text-davinci-002-render-sha")),
        ("gpt-4.1", WebModel("gpt-4-1")),
        ("o4-mini", WebModel("o4-mini")),
        ("gpt-4o-gizmo-g-abc123", WebModel("gpt-4o", "g-abc123")),
        ("gpt-5-gizmo-g-p-67d1-team", WebModel("gpt-5", "g-p-67d1-team")),
        ("gpt-5-4-thinking", None),
        ("claude-3", None),
    ],
)
def test_resolve(name: str, expected: WebModel | None) -> None:
    assert resolve(name) == expected


def test_listed_slugs_pass_through_and_bad_gizmo() -> None:
    listed = [m["slug"] for m in parse_models({"models": [{"slug": "gpt-5-4-thinking"}, {"title": "x"}]})]
    assert resolve("gpt-5-4-thinking-gizmo-g-x1", listed) == WebModel("gpt-5-4-thinking", "g-x1")
    with pytest.raises(ValueError):
        resolve("gpt-4o-gizmo-abc")


CONFIG = sentinel.browser_config(
    "Mozilla/5.0 test",
    rng=random.Random(7),
    now=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    perf=1234.5,
    uid="00000000-0000-4000-8000-000000000001",
)


def test_pow_config_and_answer_are_deterministic() -> None:
    assert [
        CONFIG[0],
        "Wed Jan 01 2025 22:04:05 GMT-0500 (Eastern Standard Time)",
        4294705152,
        0,
        "Mozilla/5.0 test",
        sentinel.DEFAULT_SCRIPT,
        sentinel.DEFAULT_BUILD,
        "en-US",
        "en-US,es-US,en,es",
        0,
        CONFIG[10],
        "location",
        CONFIG[12],
        1234.5,
        "00000000-0000-4000-8000-000000000001",
    ] == CONFIG
    token = sentinel.proof_token("0.42", "0fffff", CONFIG)
    assert token is not None and token.startswith("gAAAAAB")
    assert token == sentinel.proof_token("0.42", "0fffff", CONFIG)  # same seed, same answer
    decoded = sentinel.decode_answer(token)
    assert decoded is not None
    attempt = decoded[3]
    assert decoded[9] == attempt >> 1
    assert decoded[:3] == CONFIG[:3] and decoded[4:9] == CONFIG[4:9] and decoded[10:] == CONFIG[10:]
    assert proof_meets(token, "0.42", "0fffff")  # the simulator's check agrees
    assert not proof_meets(token, "0.43", "00000f")


def test_pow_unsolvable_and_too_hard() -> None:
    assert sentinel.proof_token("0.42", "000000", CONFIG, max_attempts=50) is None
    assert sentinel.too_hard("000032") and sentinel.too_hard("00001f") and not sentinel.too_hard("0fffff")
    assert sentinel.requirements_token(CONFIG, seed="0.5").startswith("gAAAAAC")


def test_requirements_parse() -> None:
    body = {
        "token": "t",
        "persona": "chatgpt-paid",
        "proofofwork": {"required": True, "seed": "s", "difficulty": "0aa"},
    }
    assert sentinel.parse_requirements(body) == sentinel.Requirements(
        token="t", persona="chatgpt-paid", proof_required=True, seed="s", difficulty="0aa"
    )


def test_classify() -> None:
    cap = classify(
        429,
        {},
        b'{"detail": {"clears_in": 252, "code": "model_cap_exceeded", "message": "You have sent too many messages."}}',
        model="o3",
    )
    assert isinstance(cap, ModelCapExceeded) and cap.model == "o3" and cap.upstream_status == 429
    assert isinstance(classify(429, {}, b"rate-limit"), errors.UpstreamRateLimited)
    assert isinstance(classify(401, {}, b'{"detail": "expired"}'), errors.AccountUnauthorized)
    html = classify(403, {"content-type": "text/html"}, b"<html>cf_chl_opt</html>")
    assert isinstance(html, errors.UpstreamUnavailable) and html.code == "upstream_challenge"
    forbidden = classify(403, {}, b'{"detail": "Unusual activity"}')
    assert isinstance(forbidden, errors.AccountForbidden) and forbidden.message.endswith("Unusual activity")
    flagged = classify(
        400, {}, b'{"detail": {"code": "flagged_by_moderation", "message": "This content may violate"}}'
    )
    assert isinstance(flagged, errors.UpstreamRequestRejected) and flagged.code == "flagged_by_moderation"
    gone = classify(404, {}, b'{"detail": "Conversation not found"}', follow_up=True)
    assert gone.code == "conversation_not_found"
    assert (classify(404, {}, b"{}").status, classify(413, {}, b"").status) == (404, 413)
    assert isinstance(classify(502, {}, b"bad gateway"), errors.UpstreamUnavailable)
