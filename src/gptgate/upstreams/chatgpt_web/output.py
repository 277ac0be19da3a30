"""Canonical (Responses-shaped) events for a web answer: items opened, grown and closed.

The web stream speaks of messages; the canonical stream speaks of output items. Visible text
of every message (answer, tool calls and results rendered as text) goes into one ``message``
item; thoughts go into a ``reasoning`` item with one summary part per thought. Switching
between the two closes the open item, so the order of items is the order the user saw.

Text is kept as the list of deltas sent and joined once when the item closes: a delta costs
O(delta) however long the answer already is (no growing string is copied per event).
"""

from __future__ import annotations

from typing import Any

from gptgate.canonical import events as ev
from gptgate.canonical.events import Event
from gptgate.types import JSONObject


class _Item:
    __slots__ = ("id", "index", "kind", "texts")

    def __init__(self, kind: str, item_id: str, index: int) -> None:
        self.kind = kind
        self.id = item_id
        self.index = index
        #: the deltas of each text (one for a message, one per summary part), joined at close
        self.texts: list[list[str]] = []


class OutputBuilder:
    """Appends canonical events to the caller's list; keeps the finished items for the terminal."""

    __slots__ = ("_base", "_item", "items")

    def __init__(self, id_base: str) -> None:
        self._base = id_base
        self._item: _Item | None = None
        self.items: list[JSONObject] = []

    @property
    def text(self) -> str:
        """The visible text sent so far in the open message item ("" when none is open)."""
        item = self._item
        return "".join(item.texts[0]) if item is not None and item.kind == "message" else ""

    def tail(self, size: int = 2) -> str:
        """The last ``size`` characters of :attr:`text`, without joining the whole text."""
        item = self._item
        if item is None or item.kind != "message":
            return ""
        out = ""
        for chunk in reversed(item.texts[0]):
            out = chunk[-size:] + out
            if len(out) >= size:
                return out[-size:]
        return out

    def _open(self, kind: str, out: list[Event]) -> _Item:
        item = self._item
        if item is not None and item.kind == kind:
            return item
        self.close(out)
        index = len(self.items)
        item = self._item = _Item(
            kind, f"{'msg' if kind == 'message' else 'rs'}_{self._base}{index:04x}", index
        )
        if kind == "message":
            skeleton: JSONObject = {"id": item.id, "type": "message", "status": "in_progress"}
            skeleton.update(content=[], role="assistant")
            out.append(_event(ev.ITEM_ADDED, output_index=index, item=skeleton))
            out.append(_event(ev.PART_ADDED, **self._where(item), part=_text_part("")))
            item.texts.append([])
        else:
            skeleton = {"id": item.id, "type": "reasoning", "summary": []}
            out.append(_event(ev.ITEM_ADDED, output_index=index, item=skeleton))
        return item

    @staticmethod
    def _where(item: _Item) -> dict[str, Any]:
        return {"item_id": item.id, "output_index": item.index, "content_index": 0}

    def text_delta(self, delta: str, out: list[Event]) -> None:
        """The hot path: one event per upstream text delta (its dict built inline)."""
        item = self._item
        if item is None or item.kind != "message":
            item = self._open("message", out)
        item.texts[0].append(delta)
        data: JSONObject = {
            "type": ev.TEXT_DELTA,
            "item_id": item.id,
            "output_index": item.index,
            "content_index": 0,
            "delta": delta,
            "logprobs": [],
        }
        out.append(Event(ev.TEXT_DELTA, data))

    def summary_part(self, out: list[Event]) -> None:
        """Start the next summary part of the reasoning item (opened if needed)."""
        item = self._open("reasoning", out)
        item.texts.append([])
        where = {"item_id": item.id, "output_index": item.index, "summary_index": len(item.texts) - 1}
        out.append(_event(ev.SUMMARY_PART_ADDED, **where, part={"type": "summary_text", "text": ""}))

    def summary_delta(self, delta: str, out: list[Event]) -> None:
        item = self._item
        if item is None or item.kind != "reasoning" or not item.texts:
            self.summary_part(out)
            item = self._item
            assert item is not None
        item.texts[-1].append(delta)
        where = {"item_id": item.id, "output_index": item.index, "summary_index": len(item.texts) - 1}
        out.append(_event(ev.SUMMARY_DELTA, **where, delta=delta))

    def in_reasoning(self) -> bool:
        return self._item is not None and self._item.kind == "reasoning"

    def close(self, out: list[Event], status: str = "completed") -> None:
        item, self._item = self._item, None
        if item is None:
            return
        if item.kind == "message":
            text = "".join(item.texts[0])
            where = self._where(item)
            out.append(_event(ev.TEXT_DONE, **where, text=text, logprobs=[]))
            out.append(_event(ev.PART_DONE, **where, part=_text_part(text)))
            done: JSONObject = {"id": item.id, "type": "message", "status": status}
            done.update(content=[_text_part(text)], role="assistant")
        else:
            summary = [{"type": "summary_text", "text": "".join(t)} for t in item.texts]
            for n, part in enumerate(summary):
                where = {"item_id": item.id, "output_index": item.index, "summary_index": n}
                out.append(_event(ev.SUMMARY_DONE, **where, text=part["text"]))
                out.append(_event(ev.SUMMARY_PART_DONE, **where, part=part))
            done = {"id": item.id, "type": "reasoning", "summary": summary}
        out.append(_event(ev.ITEM_DONE, output_index=item.index, item=done))
        self.items.append(done)


def _text_part(text: str) -> JSONObject:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _event(kind: str, **fields: Any) -> Event:
    data: JSONObject = {"type": kind}
    data.update(fields)
    return Event(kind, data)
