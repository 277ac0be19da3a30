"""Canonical events -> Chat Completions chunks (client-apis.md §2.3-2.4, §7.2, invariants §8.1).

One method per event type. The constant head of every chunk (id, object, created, model) is
serialised once per stream; each event then costs one small ``orjson.dumps`` of its choice.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

import orjson

from gptgate.canonical import events as ev
from gptgate.canonical.failures import error_of_failed
from gptgate.canonical.hosted import ImageLink, citations, data_url_link, generated_image
from gptgate.canonical.response import StopReason, message_text, usage_of
from gptgate.canonical.response import stop_reason as canonical_stop
from gptgate.protocols.openai_errors import error_body
from gptgate.streaming.stream import TableEncoder
from gptgate.types import JSONObject

dumps = orjson.dumps
DONE: Final = b"data: [DONE]\n\n"
KEEPALIVE: Final = b": keep-alive\n\n"
ReasoningMode = Literal["reasoning_content", "reasoning", "think", "none"]
#: the first chunk's choice (the role), made once
ROLE_CHOICE: Final = dumps(
    {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}
)
#: the last chunk's choice for each stop reason, made once
FINISH_CHOICES: Final = {
    reason: dumps({"index": 0, "delta": {}, "logprobs": None, "finish_reason": reason})
    for reason in get_args(StopReason)
}


def image_markdown(url: str, after_text: bool) -> str:
    """A generated image in the answer's text: a markdown image, set apart from the words."""
    return ("\n\n" if after_text else "") + f"![image]({url})\n\n"


def chat_annotation(citation: JSONObject) -> JSONObject:
    """A canonical ``url_citation`` in the Chat form (``message.annotations[]``)."""
    inner = {k: citation[k] for k in ("end_index", "start_index", "title", "url")}
    return {"type": "url_citation", "url_citation": inner}


def chat_usage(response: JSONObject | None) -> JSONObject:
    u = usage_of(response)
    return {
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": u.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class ChatStreamEncoder(TableEncoder):
    keepalive = KEEPALIVE
    #: no instance dict: an open stream holds its encoder for as long as it lasts
    __slots__ = (
        "_chars",
        "_finished",
        "_head",
        "_include_usage",
        "_link",
        "_reasoning",
        "_shown",
        "_started",
        "_tail",
        "_text_head",
        "_text_item",
        "_text_tail",
        "_think_open",
        "_tools",
    )

    def __init__(
        self,
        *,
        chunk_id: str,
        created: int,
        model: str,
        include_usage: bool,
        reasoning: ReasoningMode,
        link: ImageLink = data_url_link,
    ) -> None:
        head = dumps({"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model})
        self._head = b"data: " + head[:-1] + b',"choices":['
        self._tail = b'],"usage":null}\n\n' if include_usage else b"]}\n\n"
        #: a text delta's chunk around its JSON string: ``_chunk({"content": text})``, made once
        self._text_head = self._head + b'{"index":0,"delta":{"content":'
        self._text_tail = b'},"logprobs":null,"finish_reason":null}' + self._tail
        self._text_item: str | None = None  # the message whose text is streaming now
        self._include_usage = include_usage
        self._reasoning = reasoning
        self._started = False
        self._think_open = False
        self._tools: dict[str, int] = {}  # item id -> tool index
        #: items whose text or arguments went out as deltas (a message's and a call's ids differ)
        self._shown: set[str] = set()
        self._finished = False
        self._link = link
        self._chars = 0  # characters of ``content`` sent (where a citation's offsets start)

    # -- chunk builders
    def _chunk(self, delta: JSONObject, finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return self._head + dumps(choice) + self._tail

    def _delta(self, delta: JSONObject, out: list[bytes]) -> None:
        if not self._started:
            self._start(out)
        out.append(self._chunk(delta))

    def _start(self, out: list[bytes]) -> None:
        self._started = True
        out += (self._head, ROLE_CHOICE, self._tail)  # ``self._chunk({"role": ..., "content": ""})``

    # -- handlers
    def _on_created(self, data: JSONObject, out: list[bytes]) -> None:  # BLIND: data is empty
        if not self._started:
            self._start(out)

    def _on_text(self, data: JSONObject, out: list[bytes]) -> None:
        """The hot event: one string serialized between two pieces made once per stream."""
        delta = data.get("delta")
        if not delta:
            return
        item = data.get("item_id")
        if item != self._text_item:
            self._text_item = item
            self._shown.add(item or "")
        if self._think_open:
            self._think_open = False
            delta = "</think>\n\n" + delta
        self._chars += len(delta)
        if not self._started:
            self._start(out)
        out += (self._text_head, dumps(delta), self._text_tail)  # joined once, with the batch

    def _on_reasoning(self, data: JSONObject, out: list[bytes]) -> None:
        delta = data.get("delta")
        if delta:
            self._reasoning_text(delta, out)

    def _on_summary_part(self, data: JSONObject, out: list[bytes]) -> None:
        if data.get("summary_index", 0) > 0:
            self._reasoning_text("\n\n", out)

    def _reasoning_text(self, text: str, out: list[bytes]) -> None:
        mode = self._reasoning
        if mode == "none":
            return
        if mode == "think":
            if not self._think_open:
                self._think_open = True
                text = "<think>\n" + text
            self._delta({"content": text}, out)
        else:
            self._delta({mode: text}, out)

    def _on_refusal(self, data: JSONObject, out: list[bytes]) -> None:
        if data.get("delta"):
            self._delta({"refusal": data["delta"]}, out)

    def _on_item_added(self, data: JSONObject, out: list[bytes]) -> None:
        item = data.get("item") or {}
        kind = item.get("type")
        if kind not in ("function_call", "custom_tool_call"):
            return
        index = len(self._tools)
        self._tools[item.get("id") or str(data.get("output_index"))] = index
        call: JSONObject = {"index": index, "id": item.get("call_id"), "type": "function"}
        if kind == "function_call":
            call["function"] = {"name": item.get("name"), "arguments": ""}
        else:
            call["type"] = "custom"
            call["custom"] = {"name": item.get("name"), "input": ""}
        self._close_think(out)
        self._delta({"tool_calls": [call]}, out)

    def _on_args(self, data: JSONObject, out: list[bytes]) -> None:
        self._tool_delta(
            data.get("item_id") or str(data.get("output_index")),
            "function",
            "arguments",
            data.get("delta"),
            out,
        )

    def _on_custom_input(self, data: JSONObject, out: list[bytes]) -> None:
        self._tool_delta(
            data.get("item_id") or str(data.get("output_index")), "custom", "input", data.get("delta"), out
        )

    def _tool_delta(self, item_id: str, kind: str, field: str, text: str | None, out: list[bytes]) -> None:
        """One fragment of a tool call's arguments/input: only ``index`` and the fragment."""
        index = self._tools.get(item_id)
        if not text or index is None:
            return
        self._shown.add(item_id)
        self._delta({"tool_calls": [{"index": index, kind: {field: text}}]}, out)

    def _on_item_done(self, data: JSONObject, out: list[bytes]) -> None:
        """Send what an item carried but no delta did (upstreams that only send ``done``)."""
        item = data.get("item") or {}
        item_id = item.get("id") or str(data.get("output_index"))
        kind = item.get("type")
        if item_id in self._tools and item_id not in self._shown:
            if kind == "function_call":
                self._tool_delta(item_id, "function", "arguments", item.get("arguments"), out)
            elif kind == "custom_tool_call":
                self._tool_delta(item_id, "custom", "input", item.get("input"), out)
        elif kind == "message":
            # the text is joined only to be shown here or to place citations: a message that
            # streamed as deltas and cites nothing (the usual one) needs neither
            text = None
            if item_id not in self._shown:
                text = message_text(item)
                if text:
                    self._on_text({"item_id": item_id, "delta": text}, out)
            found = citations(item)
            if found:
                if text is None:
                    text = message_text(item)
                self._annotations(found, self._chars - len(text), out)
        elif (image := generated_image(item)) is not None:
            self._close_think(out)
            markdown = image_markdown(self._link(image), self._chars > 0)
            self._chars += len(markdown)
            self._delta({"content": markdown}, out)

    def _annotations(self, found: list[JSONObject], offset: int, out: list[bytes]) -> None:
        """A message's citations, once it is whole, as a delta of ``annotations``."""
        for citation in found:
            citation["start_index"] += offset
            citation["end_index"] += offset
        self._delta({"annotations": [chat_annotation(c) for c in found]}, out)

    def _close_think(self, out: list[bytes]) -> None:
        if self._think_open:
            self._think_open = False
            self._delta({"content": "\n</think>\n\n"}, out)

    def _on_end(self, data: JSONObject, out: list[bytes]) -> None:
        response = data.get("response") or {}
        if self._think_open:
            self._close_think(out)
        if not self._started:
            self._start(out)
        reason = (response.get("incomplete_details") or {}).get("reason")
        finish = canonical_stop(response.get("status"), reason, bool(self._tools))
        out += (self._head, FINISH_CHOICES[finish], self._tail)  # ``self._chunk({}, finish)``
        if self._include_usage:
            out += (self._head[:-1], b'[],"usage":', dumps(chat_usage(response)), b"}\n\n")
        out.append(DONE)
        self._finished = True

    def _on_failed(self, data: JSONObject, out: list[bytes]) -> None:
        if data.get("type") == ev.ERROR:
            response: JSONObject = {"error": ev.error_of_event(data)}
        else:
            response = data.get("response") or {}
        error = error_of_failed(response)
        out.append(b"data: " + dumps(error_body(error)) + b"\n\n" + DONE)
        self._finished = True


#: One table for every stream (a per-instance dict of bound methods cost memory per open stream).
ChatStreamEncoder.HANDLERS = {
    ev.TEXT_DELTA: ChatStreamEncoder._on_text,
    ev.SUMMARY_DELTA: ChatStreamEncoder._on_reasoning,
    ev.REASONING_DELTA: ChatStreamEncoder._on_reasoning,
    ev.SUMMARY_PART_ADDED: ChatStreamEncoder._on_summary_part,
    ev.REFUSAL_DELTA: ChatStreamEncoder._on_refusal,
    ev.ITEM_ADDED: ChatStreamEncoder._on_item_added,
    ev.ARGS_DELTA: ChatStreamEncoder._on_args,
    ev.CUSTOM_INPUT_DELTA: ChatStreamEncoder._on_custom_input,
    ev.ITEM_DONE: ChatStreamEncoder._on_item_done,
    ev.COMPLETED: ChatStreamEncoder._on_end,
    ev.INCOMPLETE: ChatStreamEncoder._on_end,
    ev.FAILED: ChatStreamEncoder._on_failed,
    ev.ERROR: ChatStreamEncoder._on_failed,
}
ChatStreamEncoder.BLIND = {ev.CREATED: ChatStreamEncoder._on_created}
