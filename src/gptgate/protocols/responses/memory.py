"""What one Responses WebSocket has carried, so ``previous_response_id`` continues a thread.

With ``store: false`` nothing is kept upstream, yet Codex CLI sends each turn of a socket as
``previous_response_id`` plus only the new items, as the official backend allows within one
socket. The socket therefore remembers the last response: the full input it answered and the
output items it produced. A turn naming that response is expanded to the whole conversation
before dispatch, so the upstream gets a self-contained request and any account can serve it.

The memory is bounded (``limit`` bytes, counted from the frames and output events that carried
it): past it the socket forgets, and a continuation gets ``previous_response_not_found``, on
which the official client resends the full input. A failed turn leaves the memory as it was.
Reasoning items carry content encrypted for the account that made them; when the turn moves
to another account they are left out of the expansion (``drop_reasoning``).
"""

from __future__ import annotations

from gptgate.canonical import items as canonical_items
from gptgate.canonical.events import ITEM_DONE, Event
from gptgate.errors import RequestError
from gptgate.types import JSONObject


class PreviousResponseNotFound(RequestError):
    code = "previous_response_not_found"


class ThreadMemory:
    __slots__ = ("_items", "_size", "last_id", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.last_id: str | None = None
        self._items: list[JSONObject] = []
        self._size = 0

    def expand(self, body: JSONObject, size: int, *, drop_reasoning: bool = False) -> int:
        """Replace ``previous_response_id`` by the remembered items (in ``body``, in place);
        return the expanded request's size estimate (``size`` is the frame's own)."""
        previous = body.pop("previous_response_id", None)
        if previous is None:
            return size
        if previous != self.last_id or not isinstance(previous, str):
            raise PreviousResponseNotFound(
                f"Previous response with id '{str(previous)[:80]}' not found.", param="previous_response_id"
            )
        kept = self._items
        if drop_reasoning:
            kept = [item for item in kept if item.get("type") != "reasoning"]
        body["input"] = [*kept, *_items_of(body.get("input"))]
        return self._size + size

    def remember(
        self, response_id: str, request_input: list[JSONObject], output: list[JSONObject], size: int
    ) -> None:
        """The last response, the input it answered and its output (``size``: bytes carried)."""
        if size > self.limit:
            self.forget()
            return
        self.last_id = response_id
        self._items = [*request_input, *output]
        self._size = size

    def forget(self) -> None:
        self.last_id = None
        self._items = []
        self._size = 0


class OutputCollector:
    """Gathers a turn's output items from ``response.output_item.done`` (the authoritative
    copy: the terminal event's ``output`` may be empty on this upstream)."""

    __slots__ = ("items", "size")

    def __init__(self) -> None:
        self.items: list[JSONObject] = []
        self.size = 0

    def __call__(self, batch: list[Event]) -> None:
        for event in batch:
            if event.type == ITEM_DONE:
                item = event.data.get("item")
                if isinstance(item, dict):
                    self.items.append(item)
                    self.size += len(event.raw) if event.raw is not None else 256

    def output(self, terminal: JSONObject | None) -> list[JSONObject]:
        if self.items or terminal is None:
            return self.items
        response = terminal.get("response")
        output = response.get("output") if isinstance(response, dict) else None
        return [i for i in output if isinstance(i, dict)] if isinstance(output, list) else []


def _items_of(value: object) -> list[JSONObject]:
    """A turn's new input as items (a string is one user message)."""
    if isinstance(value, str):
        return [canonical_items.message("user", [canonical_items.text_part("user", value)])]
    if isinstance(value, list):
        return value
    return []
