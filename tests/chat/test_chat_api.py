"""``/chat`` and ``/chat/api`` on a served gateway: the page is open, the API takes client keys,
each key sees only its own conversations (another's is 404), and without a store it says 409."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.admin.conftest import serve
from tests.chat.conftest import STATIC_KEY, ChatGateway

IMAGE = "data:image/png;base64,iVBORw0KGgo="


def call(
    base: str,
    method: str,
    path: str,
    key: str | None = None,
    body: Any = None,
    content_type: str = "application/json",
) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = None
    if body is not None:
        data = orjson.dumps(body)
        headers["Content-Type"] = content_type
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            raw, status, got = resp.read(), resp.status, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        raw, status, got = exc.read(), exc.code, dict(exc.headers)
    ctype = got.get("Content-Type", "")
    return status, got, orjson.loads(raw) if ctype.startswith("application/json") else raw


def error(message: str, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def test_page_and_files_are_open_and_strict(chat_gateway: ChatGateway) -> None:
    base = chat_gateway.base_url
    status, headers, page = call(base, "GET", "/chat")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="/chat/static/chat.js"></script>' in page
    assert "img-src 'self' data:" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    for name, ctype in [
        ("chat.js", "text/javascript"),
        ("chat.css", "text/css"),
        ("markdown.js", "text/javascript"),
    ]:
        status, headers, _ = call(base, "GET", "/chat/static/" + name)
        assert (status, headers["Content-Type"].split(";")[0]) == (200, ctype)
    assert call(base, "GET", "/chat/static/../app.py")[0] == 404
    assert call(base, "GET", "/chat/static/nothing.js")[0] == 404
    for path in ["/chat/static/chat.js", "/chat/static/view.js", "/chat/static/api.js"]:
        _, _, text = call(base, "GET", path)
        assert b"http://" not in text.replace(b"http://www.w3.org", b"") and b"https://" not in text


def test_the_api_takes_client_keys(chat_gateway: ChatGateway) -> None:
    base = chat_gateway.base_url
    status, _, body = call(base, "GET", "/chat/api/me")
    assert (status, body) == (
        401,
        error(
            "Missing API key: send it as 'Authorization: Bearer <key>'.",
            "authentication_error",
            "invalid_api_key",
        ),
    )
    status, _, body = call(base, "GET", "/chat/api/conversations", "gg-not-a-key")
    assert (status, body) == (
        401,
        error("Incorrect API key provided.", "authentication_error", "invalid_api_key"),
    )
    status, headers, body = call(base, "GET", "/chat/api/me", chat_gateway.alice)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert body.pop("owner").startswith("key_")
    assert body == {"kind": "key", "name": "alice", "store": True, "api_base": "/v1"}
    status, _, body = call(base, "GET", "/chat/api/me", STATIC_KEY)
    assert status == 200 and body["owner"].startswith("static:") and len(body["owner"]) == len("static:") + 16
    assert STATIC_KEY not in str(body)
    assert {k: body[k] for k in ("kind", "name", "store")} == {"kind": "static", "name": None, "store": True}


def test_crud_and_isolation_between_two_keys(chat_gateway: ChatGateway) -> None:
    base, alice, bob = chat_gateway.base_url, chat_gateway.alice, chat_gateway.bob
    user = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": IMAGE}},
        ],
    }
    status, _, body = call(
        base,
        "POST",
        "/chat/api/conversations",
        alice,
        {"title": "  Alice's chat ", "model": "gpt-5.5", "messages": [user]},
    )
    assert status == 201
    conv = body["conversation"]
    cid = conv["id"]
    assert cid.startswith("conv_") and conv["created_at"] == conv["updated_at"]
    assert {k: conv[k] for k in ("title", "model")} == {"title": "Alice's chat", "model": "gpt-5.5"}
    assert [(m["role"], m["content"], m["reasoning"]) for m in conv["messages"]] == [
        ("user", user["content"], None)
    ]

    turn = [{"role": "assistant", "content": "A **red** dot.", "reasoning": "Looking at the image."}]
    status, _, body = call(base, "POST", f"/chat/api/conversations/{cid}/messages", alice, {"messages": turn})
    assert status == 201
    (added,) = body["messages"]
    assert {k: added[k] for k in ("role", "content", "reasoning")} == turn[0]
    assert added["id"] > conv["messages"][0]["id"]

    status, _, body = call(
        base, "PATCH", f"/chat/api/conversations/{cid}", alice, {"title": "Dots", "model": "gpt-5.4"}
    )
    assert status == 200 and {k: body["conversation"][k] for k in ("title", "model")} == {
        "title": "Dots",
        "model": "gpt-5.4",
    }
    status, _, body = call(base, "GET", "/chat/api/conversations", alice)
    assert status == 200 and [(c["id"], c["title"], "messages" in c) for c in body["conversations"]] == [
        (cid, "Dots", False)
    ]
    status, _, body = call(base, "GET", f"/chat/api/conversations/{cid}", alice)
    assert status == 200 and [m["content"] for m in body["conversation"]["messages"]] == [
        user["content"],
        "A **red** dot.",
    ]

    # bob (and the static key) see nothing of alice's: the same 404 as an id that never existed
    assert call(base, "GET", "/chat/api/conversations", bob)[2] == {"conversations": []}
    assert call(base, "GET", "/chat/api/conversations", STATIC_KEY)[2] == {"conversations": []}
    missing = error(f"No conversation '{cid}'.", "not_found_error", "conversation_not_found")
    for method, path, payload in [
        ("GET", f"/chat/api/conversations/{cid}", None),
        ("PATCH", f"/chat/api/conversations/{cid}", {"title": "mine now"}),
        (
            "POST",
            f"/chat/api/conversations/{cid}/messages",
            {"messages": [{"role": "user", "content": "hi"}]},
        ),
        ("DELETE", f"/chat/api/conversations/{cid}", None),
    ]:
        assert call(base, method, path, bob, payload)[::2] == (404, missing)
    status, _, body = call(base, "GET", "/chat/api/conversations/conv_000000000000000000000000", bob)
    assert (status, body["error"]["code"]) == (404, "conversation_not_found")
    status, _, body = call(
        base, "POST", "/chat/api/conversations", bob, {"messages": [{"role": "user", "content": "bob here"}]}
    )
    assert status == 201 and body["conversation"]["title"] == "New chat"
    assert [c["title"] for c in call(base, "GET", "/chat/api/conversations", alice)[2]["conversations"]] == [
        "Dots"
    ]

    assert call(base, "DELETE", f"/chat/api/conversations/{cid}", alice)[::2] == (
        200,
        {"id": cid, "deleted": True},
    )
    assert call(base, "GET", f"/chat/api/conversations/{cid}", alice)[0] == 404


def test_bad_bodies(chat_gateway: ChatGateway) -> None:
    base, alice = chat_gateway.base_url, chat_gateway.alice
    cases = [
        (
            {"messages": [{"role": "tool", "content": "x"}]},
            "'messages[0].role' must be one of assistant, system, user.",
            "messages[0]",
        ),
        (
            {"messages": [{"role": "user", "content": 3}]},
            "'messages[0].content' must be a string or a list of parts.",
            "messages[0]",
        ),
        ({"title": "x" * 201}, "'title' must be a string of at most 200 characters.", "title"),
    ]
    for payload, message, param in cases:
        status, _, body = call(base, "POST", "/chat/api/conversations", alice, payload)
        assert (status, body) == (400, error(message, "invalid_request_error", None, param))
    status, _, body = call(base, "POST", "/chat/api/conversations", alice, {"title": "x"}, "text/plain")
    assert (status, body["error"]["message"]) == (400, "Send the body as 'Content-Type: application/json'.")
    cid = call(base, "POST", "/chat/api/conversations", alice, {})[2]["conversation"]["id"]
    status, _, body = call(base, "PATCH", f"/chat/api/conversations/{cid}", alice, {"owner": "key_x"})
    assert (status, body["error"]["message"], body["error"]["code"]) == (
        400,
        "Cannot change 'owner' of a conversation.",
        "invalid_field",
    )


@pytest.fixture
def storeless(simulator_url: str, tmp_path: Path) -> Iterator[str]:
    served = serve(
        simulator_url, tmp_path, account_store="false", access_token="x", api_keys=f'["{STATIC_KEY}"]'
    )
    try:
        yield served.base_url
    finally:
        served.stop()


def test_without_a_store_the_api_says_409(storeless: str) -> None:
    status, _, body = call(storeless, "GET", "/chat/api/me", STATIC_KEY)
    assert status == 200 and body["store"] is False and body["kind"] == "static"
    message = (
        "This gateway runs without an account store (account_store is off), so it keeps no "
        "conversations: they stay in this browser only."
    )
    for method, path in [
        ("GET", "/chat/api/conversations"),
        ("POST", "/chat/api/conversations"),
        ("GET", "/chat/api/conversations/conv_1"),
    ]:
        status, _, body = call(storeless, method, path, STATIC_KEY, {} if method == "POST" else None)
        assert (status, body) == (409, error(message, "invalid_request_error", "no_chat_store"))
