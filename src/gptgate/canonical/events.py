"""Canonical stream events.

The canonical stream *is* the Responses-API stream: an event is the parsed payload of one
Responses SSE record (``data["type"]`` names it). Keeping that shape means an upstream that
speaks Responses (Codex) costs one JSON parse per event and nothing else, and the Responses
front door can relay the upstream's bytes untouched (``raw``). Upstreams that speak something
else (the web backend) synthesise the same payloads.
"""

from __future__ import annotations

from typing import Final

from gptgate.types import JSONObject

CREATED: Final = "response.created"
IN_PROGRESS: Final = "response.in_progress"
QUEUED: Final = "response.queued"
ITEM_ADDED: Final = "response.output_item.added"
ITEM_DONE: Final = "response.output_item.done"
PART_ADDED: Final = "response.content_part.added"
PART_DONE: Final = "response.content_part.done"
TEXT_DELTA: Final = "response.output_text.delta"
TEXT_DONE: Final = "response.output_text.done"
REFUSAL_DELTA: Final = "response.refusal.delta"
ARGS_DELTA: Final = "response.function_call_arguments.delta"
ARGS_DONE: Final = "response.function_call_arguments.done"
CUSTOM_INPUT_DELTA: Final = "response.custom_tool_call_input.delta"
CUSTOM_INPUT_DONE: Final = "response.custom_tool_call_input.done"
SUMMARY_PART_ADDED: Final = "response.reasoning_summary_part.added"
SUMMARY_PART_DONE: Final = "response.reasoning_summary_part.done"
SUMMARY_DELTA: Final = "response.reasoning_summary_text.delta"
SUMMARY_DONE: Final = "response.reasoning_summary_text.done"
REASONING_DELTA: Final = "response.reasoning_text.delta"
ANNOTATION_ADDED: Final = "response.output_text.annotation.added"
IMAGE_IN_PROGRESS: Final = "response.image_generation_call.in_progress"
IMAGE_GENERATING: Final = "response.image_generation_call.generating"
IMAGE_PARTIAL: Final = "response.image_generation_call.partial_image"
IMAGE_COMPLETED: Final = "response.image_generation_call.completed"
SEARCH_IN_PROGRESS: Final = "response.web_search_call.in_progress"
SEARCH_SEARCHING: Final = "response.web_search_call.searching"
SEARCH_COMPLETED: Final = "response.web_search_call.completed"
COMPLETED: Final = "response.completed"
INCOMPLETE: Final = "response.incomplete"
FAILED: Final = "response.failed"
ERROR: Final = "error"

TERMINAL: Final = frozenset({COMPLETED, INCOMPLETE, FAILED, ERROR})


class Event:
    """One canonical event: ``type``, the parsed payload, and the upstream bytes when verbatim."""

    __slots__ = ("data", "raw", "type")

    def __init__(self, type: str, data: JSONObject, raw: bytes | None = None) -> None:
        self.type = type
        self.data = data
        self.raw = raw

    def __repr__(self) -> str:
        return f"Event({self.type!r})"


def failure(response_id: str | None, code: str, message: str, *, model: str | None = None) -> Event:
    """A synthetic ``response.failed`` (stream cut, gateway-side failure after the first byte)."""
    response: JSONObject = {
        "id": response_id,
        "object": "response",
        "status": "failed",
        "model": model,
        "error": {"code": code, "message": message},
        "output": [],
        "usage": None,
    }
    return Event(FAILED, {"type": FAILED, "response": response})


#: What an encoder reports when the event stream ended with no terminal event (each door
#: renders it in-band in its own protocol; a non-stream reply folds it into an error status).
ENDED_EARLY: Final = failure(
    None, "stream_disconnected", "upstream stream closed before the response completed"
)


def error_of_event(data: JSONObject) -> JSONObject:
    """The error object of an ``error`` event (top-level ``code``/``message`` or nested ``error``)."""
    nested = data.get("error")
    return nested if isinstance(nested, dict) else data
