"""Helpers shared by the simulator tests (wire parsing, fixture shapes, request builders)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from gptgate.simulator.tokens import make_access_token

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
ACCOUNT = "11111111-2222-3333-4444-555555555555"
TURN_PATH = "/backend-api/codex/responses"


def fixtures_dir() -> Path:
    """The shared fixtures directory; raises (never skips) when it is missing."""
    if not (FIXTURES / "codex").is_dir() or not (FIXTURES / "clients").is_dir():
        raise RuntimeError(
            f"shared fixtures not found at {FIXTURES.resolve()}; the simulator tests need them"
        )
    return FIXTURES


def parse_sse(body: bytes) -> list[dict[str, Any]]:
    """Events of a strict Codex SSE body: ``event:``/``data:`` pairs, blank line, no [DONE]."""
    text = body.decode()
    assert text.endswith("\n\n"), "body must end with a blank line"
    events = []
    for record in text[:-2].split("\n\n"):
        lines = record.split("\n")
        assert len(lines) == 2, f"record must have exactly two lines: {record!r}"
        assert lines[0].startswith("event: ") and lines[1].startswith("data: "), record
        data = orjson.loads(lines[1][len("data: ") :])
        assert data["type"] == lines[0][len("event: ") :], record
        events.append(data)
    return events


def load_fixture(name: str) -> list[dict[str, Any]]:
    return parse_sse((fixtures_dir() / "codex" / name).read_bytes())


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def shape_key(event: dict[str, Any]) -> tuple[str, str]:
    item = event.get("item")
    return event["type"], item["type"] if isinstance(item, dict) else ""


def shape(event: dict[str, Any]) -> dict[str, Any]:
    """The field sets of an event: its keys and those of its response/item/part/usage/error."""
    result: dict[str, Any] = {"keys": set(event)}
    for name in ("response", "item", "part"):
        if isinstance(event.get(name), dict):
            result[name] = set(event[name])
    response = event.get("response")
    if isinstance(response, dict):
        for name in ("usage", "error", "reasoning", "text"):
            if isinstance(response.get(name), dict):
                result[f"response.{name}"] = set(response[name])
    return result


def assert_same_shapes(ours: list[dict[str, Any]], fixture: list[dict[str, Any]]) -> None:
    expected = {shape_key(event): shape(event) for event in fixture}
    for event in ours:
        key = shape_key(event)
        if key in expected:
            assert shape(event) == expected[key], f"field sets differ for {key}"


def assert_sequence(events: list[dict[str, Any]]) -> None:
    assert [event["sequence_number"] for event in events] == list(range(len(events)))


def auth_headers(account: str = ACCOUNT, plan: str = "plus", exp: int | None = None) -> dict[str, str]:
    token = make_access_token(account, plan=plan, exp=exp)
    return {"authorization": f"Bearer {token}", "chatgpt-account-id": account}


def turn_body(prompt: str = "Say hi", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "gpt-5.5",
        "stream": True,
        "store": False,
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]}],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "prompt_cache_key": "01a20492-4e8e-7590-a9f5-6390f7a54c94",
        "text": {"verbosity": "low"},
    }
    body.update(extra)
    return body


EXEC_COMMAND = {
    "type": "function",
    "name": "exec_command",
    "description": "Runs a command",
    "strict": False,
    "parameters": {
        "type": "object",
        "properties": {"cmd": {"type": "string"}, "yield_time_ms": {"type": "number"}},
        "required": ["cmd"],
        "additionalProperties": False,
    },
}


def function_tool(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"type": "function", "name": name, "description": name, "strict": False, "parameters": schema}


def completed(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert events[-1]["type"] == "response.completed", types(events)
    response: dict[str, Any] = events[-1]["response"]
    return response


def answer_text(events: list[dict[str, Any]]) -> str:
    return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
