"""Responses requests pass to the Codex upstream verbatim, minus what the backend rejects."""

from __future__ import annotations

from gptgate.dispatch.models import ModelCatalog
from gptgate.dispatch.prepare import prepare
from gptgate.protocols.responses.decode import decode
from gptgate.settings import DEFAULT_ALIASES, DEFAULT_MODELS
from gptgate.upstreams.codex.encode import encode_body
from tests.support import client_requests

CATALOG = ModelCatalog([*DEFAULT_MODELS, "gpt-6.1-sol"], DEFAULT_ALIASES, "gpt-5.5")


def test_codex_cli_requests_are_forwarded_field_for_field() -> None:
    for captured in client_requests("codex_apikey_responses_tool"):
        body = captured["body"]
        headers = {k.lower(): v for k, v in captured["headers"]}
        req = prepare(decode(body, headers), CATALOG, default_effort=None, summary=None)
        sent = encode_body(req)
        assert {k: v for k, v in sent.items() if k != "instructions"} == body
        assert sent["instructions"] == ""
        assert req.forward_headers["session-id"] == headers["session-id"]
        assert req.forward_headers["x-codex-turn-metadata"] == headers["x-codex-turn-metadata"]
        assert "authorization" not in req.forward_headers


def test_string_input_rejected_params_and_system_role() -> None:
    body = {
        "model": "gpt-5.1",
        "input": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "max_output_tokens": 10,
        "store": True,
        "metadata": {"a": "b"},
        "custom_field": {"kept": True},
    }
    sent = encode_body(prepare(decode(body, {}), CATALOG, default_effort=None, summary=None))
    assert sent["input"] == [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "be brief"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
    ]
    assert sent["custom_field"] == {"kept": True}
    assert sent["store"] is False and sent["stream"] is True
    for rejected in ("temperature", "max_output_tokens", "metadata"):
        assert rejected not in sent
    one = encode_body(
        prepare(
            decode({"model": "gpt-5.1", "input": "Say hi"}, {}), CATALOG, default_effort=None, summary=None
        )
    )
    assert one["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hi"}]}
    ]
