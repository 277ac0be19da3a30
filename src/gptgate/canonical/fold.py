"""Fold a canonical event stream into the final response object (every non-stream reply).

The terminal event carries the response, but upstreams do not always fill its ``output``
(Codex may send ``response.completed`` with ``output: []`` after streaming every item), so the
folder also keeps the items it saw: the ``output_item.done`` payloads, and for items that never
got one, the skeleton from ``output_item.added`` completed by the deltas.
"""

from __future__ import annotations

from collections.abc import Iterable

from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.types import JSONObject


class Folder:
    __slots__ = ("_items", "_last_response", "_partial", "response")

    def __init__(self) -> None:
        self._items: dict[int, JSONObject] = {}
        self._partial: dict[str, JSONObject] = {}
        self.response: JSONObject | None = None
        self._last_response: JSONObject | None = None

    @property
    def done(self) -> bool:
        return self.response is not None

    def feed(self, events: Iterable[Event]) -> None:
        for event in events:
            self.feed_one(event)

    def feed_one(self, event: Event) -> None:
        t, data = event.type, event.data
        if t == ev.ITEM_DONE:
            self._items[int(data.get("output_index", len(self._items)))] = data.get("item") or {}
        elif t == ev.ITEM_ADDED:
            self._on_added(data)
        elif t == ev.TEXT_DELTA:
            self._on_text_delta(data)
        elif t == ev.ARGS_DELTA:
            item = self._partial.get(data.get("item_id") or "")
            if item is not None:
                item["arguments"] = (item.get("arguments") or "") + (data.get("delta") or "")
        elif t in (ev.CREATED, ev.IN_PROGRESS):
            self._last_response = data.get("response")
        elif t in ev.TERMINAL:
            self._on_terminal(t, data)

    def _on_added(self, data: JSONObject) -> None:
        item = dict(data.get("item") or {})
        item["_output_index"] = int(data.get("output_index", len(self._partial)))
        self._partial[item.get("id") or str(item["_output_index"])] = item

    def _on_text_delta(self, data: JSONObject) -> None:
        item = self._partial.get(data.get("item_id") or "")
        if item is None:
            return
        content = item.setdefault("content", [])
        if not content:
            content.append({"type": "output_text", "text": "", "annotations": []})
        content[-1]["text"] = (content[-1].get("text") or "") + (data.get("delta") or "")

    def _on_terminal(self, t: str, data: JSONObject) -> None:
        if t == ev.ERROR:
            err = ev.error_of_event(data)
            base = dict(self._last_response or {"object": "response"})
            base.update(status="failed", error={"code": err.get("code"), "message": err.get("message")})
            self.response = base
        else:
            self.response = dict(data.get("response") or {})
        if not self.response.get("output"):
            self.response["output"] = self.collected_output()

    def collected_output(self) -> list[JSONObject]:
        """Items in output order: finished ones as sent, unfinished ones as far as they got."""
        items = dict(self._items)
        for item in self._partial.values():
            index = item["_output_index"]
            if index not in items:
                clean = {k: v for k, v in item.items() if k != "_output_index"}
                items[index] = clean
        return [items[i] for i in sorted(items)]
