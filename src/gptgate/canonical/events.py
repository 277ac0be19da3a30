"""Canonical stream events.

The canonical stream *is* the Responses-API stream: an event is the parsed payload of one
Responses SSE record (``data["type"]`` names it). Keeping that shape means an upstream that
speaks Responses (Codex) costs at most one JSON parse per event, made only when a door reads the
event's payload, and the Responses front door relays the upstream's bytes untouched (``raw``). Upstreams that speak something
else (the web backend) synthesise the same payloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from orjson import JSONDecodeError, loads

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
#: every event type named above (a decoder maps an upstream's type bytes onto these strings)
KNOWN: Final = frozenset(
    {
        CREATED,
        IN_PROGRESS,
        QUEUED,
        ITEM_ADDED,
        ITEM_DONE,
        PART_ADDED,
        PART_DONE,
        TEXT_DELTA,
        TEXT_DONE,
        REFUSAL_DELTA,
        ARGS_DELTA,
        ARGS_DONE,
        CUSTOM_INPUT_DELTA,
        CUSTOM_INPUT_DONE,
        SUMMARY_PART_ADDED,
        SUMMARY_PART_DONE,
        SUMMARY_DELTA,
        SUMMARY_DONE,
        REASONING_DELTA,
        ANNOTATION_ADDED,
        IMAGE_IN_PROGRESS,
        IMAGE_GENERATING,
        IMAGE_PARTIAL,
        IMAGE_COMPLETED,
        SEARCH_IN_PROGRESS,
        SEARCH_SEARCHING,
        SEARCH_COMPLETED,
        COMPLETED,
        INCOMPLETE,
        FAILED,
        ERROR,
    }
)


class Event:
    """One canonical event: ``type``, the parsed payload, and the upstream bytes when verbatim.

    An event decoded from upstream bytes may be *lazy*: made with its ``type`` and ``raw``
    only, its ``data`` is parsed from ``raw`` the first time something reads it. A door that
    relays the upstream's bytes (the Responses pass-through) never pays for the parse; a door
    that translates pays only for the events it shows. A lazy payload that turns out not to be
    a JSON object reads as ``{"type": <type>}``: every field a consumer looks for is missing,
    as if the upstream had sent an empty event of that type.
    """

    __slots__ = ("_data", "raw", "type")

    def __init__(self, type: str, data: JSONObject | None = None, raw: bytes | None = None) -> None:
        if raw is None and data is None:  # raw first: a decoded event has it, one test
            raise ValueError("an event needs its payload or the bytes to parse it from")
        self.type = type
        self._data = data
        self.raw = raw

    def payload(self) -> JSONObject:
        """``data`` as a method: what the encoders call once per event. (CPython 3.11 runs a
        property's getter in a call frame of its own; a method call is inlined, ~40 ns less.)"""
        data = self._data
        if data is None:  # a lazy event's first read (inline: this runs once per shown event)
            try:
                data = loads(self.raw)  # type: ignore[arg-type]  # None: orjson raises, as for bad JSON
            except JSONDecodeError:
                data = None
            if not isinstance(data, dict):
                data = {"type": self.type}
            self._data = data
        return data

    if TYPE_CHECKING:

        @property
        def data(self) -> JSONObject: ...

    else:
        data = property(payload)  # the same function as its getter: no call more for a reader

    def __repr__(self) -> str:
        return f"Event({self.type!r})"


_new = object.__new__


def lazy(type: str, raw: bytes) -> Event:
    """``Event(type, None, raw)`` for a decoder's hot loop: made without running ``__init__``
    (on CPython 3.11 a class whose ``__init__`` is Python code costs a call frame of its own
    per instance; one event per upstream record)."""
    event: Event = _new(Event)
    event.type = type
    event._data = None
    event.raw = raw
    return event


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
