"""The SSE body of one turn, shaped exactly like ``shared/fixtures/codex/*.sse``.

Each record is ``event: T\\ndata: {"type":"T","sequence_number":n,...}\\n\\n`` with ``n`` counting
from 0; the stream ends with one terminal event (``response.completed`` / ``.failed`` /
``.incomplete``) and no ``[DONE]``. The whole reply is built in memory as a list of records
(one ``bytes`` each) so burst mode can send it with one write and paced/cut modes can slice it.
One method per item or event type; the text-delta records, the hot path, use a byte template.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from gptgate.simulator.codex_extras import seal
from gptgate.simulator.faults import int_param, str_param
from gptgate.simulator.hosted import HostedKind, hosted_turn
from gptgate.simulator.schema import minimal_instance
from gptgate.simulator.state import Fault
from gptgate.simulator.tools import ToolRef, custom_input, function_arguments
from gptgate.simulator.turn import Turn

EMPTY_ANSWER = "Hello! How can I help you today?"
FILLER = " The simulator adds these words so that every delta carries some text."
SUMMARY_TITLE = "**Thinking about the request**"
CONTEXT_ERROR = "Your input exceeds the context window of this model. Please adjust your input and try again."
_PREFIXES: dict[str, bytes] = {}


def _prefix(kind: str) -> bytes:
    prefix = _PREFIXES.get(kind)
    if prefix is None:
        prefix = _PREFIXES[kind] = f"event: {kind}\ndata: ".encode()
    return prefix


@dataclass(slots=True)
class TurnIds:
    """Deterministic ids of one turn: ``resp_``/``msg_``/``rs_``/``fc_``/``ctc_``/``call_``."""

    base: str
    number: int

    @property
    def response(self) -> str:
        return f"resp_{self.base}{self.number:08x}"

    def item(self, prefix: str, index: int) -> str:
        return f"{prefix}_{self.base}aa{index + 1:06x}"

    def call(self, index: int) -> str:
        digest = hashlib.blake2b(f"{self.base}:{index}".encode(), digest_size=18).digest()
        return "call_" + base64.urlsafe_b64encode(digest).decode()


@dataclass(slots=True)
class ReplyContext:
    turn: Turn
    ids: TurnIds
    created_at: int
    text_deltas: int
    cached_tokens: int = 0
    tools: list[ToolRef] = field(default_factory=list)
    fault: Fault | None = None
    fault_error: dict[str, Any] | None = None
    #: compaction v2: the turn ends the thread's input with ``compaction_trigger``; the answer is
    #: one ``compaction`` item sealed for this account
    compaction_for: str | None = None
    #: a backend tool this turn runs (``hosted.py``): an image or a web search
    hosted: HostedKind | None = None


def split_text(text: str, count: int, pad: bool = True) -> list[str]:
    """``text`` in ``count`` nearly equal pieces (padded with words when it is too short)."""
    count = max(1, count)
    if len(text) < count:
        if not pad:
            count = max(1, len(text))
        while pad and len(text) < count:
            text += FILLER
    size, extra = divmod(len(text), count)
    pieces, pos = [], 0
    for index in range(count):
        end = pos + size + (1 if index < extra else 0)
        pieces.append(text[pos:end])
        pos = end
    return pieces


def plain_answer(turn: Turn) -> str:
    if turn.tool_output is not None:
        return "Tool result received: " + turn.tool_output[:40]
    said = turn.user_text.strip()[:40]
    return f"Hello! You said: {said}." if said else EMPTY_ANSWER


def answer_pieces(turn: Turn, count: int) -> list[str]:
    """The answer split into deltas: plain text, or JSON for ``text.format`` json_schema/object."""
    fmt = turn.text_format
    if fmt.get("type") == "json_schema":
        document = orjson.dumps(minimal_instance(fmt.get("schema") or {})).decode()
        return split_text(document, count, pad=False)
    if fmt.get("type") == "json_object":
        return split_text(orjson.dumps({"answer": plain_answer(turn)}).decode(), count, pad=False)
    return split_text(plain_answer(turn), count)


def response_object(ctx: ReplyContext) -> dict[str, Any]:
    """The ``response`` of created/in_progress (status in_progress, no output, no usage)."""
    body = ctx.turn.body
    reasoning = ctx.turn.reasoning or {}
    text = body.get("text")
    text = text if isinstance(text, dict) else {}
    return {
        "id": ctx.ids.response,
        "object": "response",
        "created_at": ctx.created_at,
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": None,
        "model": ctx.turn.model,
        "output": [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "prompt_cache_key": ctx.turn.prompt_cache_key,
        "reasoning": {"effort": reasoning.get("effort") or "medium", "summary": reasoning.get("summary")},
        "service_tier": "priority" if body.get("service_tier") == "priority" else "auto",
        "store": False,
        "temperature": 1.0,
        "text": {"format": ctx.turn.text_format, "verbosity": text.get("verbosity") or "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": {},
    }


class ReplyBuilder:
    def __init__(self, ctx: ReplyContext) -> None:
        self.ctx = ctx
        self.records: list[bytes] = []
        self.seq = 0
        self.output: list[dict[str, Any]] = []
        self.output_tokens = 0
        self.reasoning_tokens = 0
        self.base = response_object(ctx)

    def emit(self, kind: str, fields: dict[str, Any]) -> None:
        payload = {"type": kind, "sequence_number": self.seq}
        payload.update(fields)
        self.records.append(_prefix(kind) + orjson.dumps(payload) + b"\n\n")
        self.seq += 1

    def build(self) -> list[bytes]:
        """Every record of the reply, terminal event included."""
        kind = self.ctx.fault.kind if self.ctx.fault is not None else None
        self.created()
        if kind == "usage_limit_in_stream":
            self.failed(self.ctx.fault_error or {})
            return self.records
        if self.ctx.turn.reasoning is not None:
            self.reasoning_item()
        if kind == "failed":
            return self.failed_after_partial_text()
        if self.ctx.compaction_for is not None:
            self.compaction_item(self.ctx.compaction_for)
        elif self.ctx.tools:
            self.tool_calls()
        elif self.ctx.hosted is not None:
            hosted_turn(self, self.ctx.hosted)
        else:
            self.message_item(answer_pieces(self.ctx.turn, self.ctx.text_deltas), kind == "incomplete")
        if kind == "incomplete":
            self.incomplete()
        else:
            self.completed(empty_output=kind == "empty_output")
        return self.records

    # -- response lifecycle -----------------------------------------------------------------
    def created(self) -> None:
        response = orjson.Fragment(orjson.dumps(self.base))
        self.emit("response.created", {"response": response})
        self.emit("response.in_progress", {"response": response})

    def usage(self) -> dict[str, Any]:
        turn, ctx = self.ctx.turn, self.ctx
        output = self.output_tokens + self.reasoning_tokens
        return {
            "input_tokens": turn.input_tokens,
            "input_tokens_details": {"cached_tokens": ctx.cached_tokens},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
            "total_tokens": turn.input_tokens + output,
        }

    def completed(self, empty_output: bool = False) -> None:
        output = [] if empty_output else self.output
        response = {**self.base, "status": "completed", "output": output, "usage": self.usage()}
        self.emit("response.completed", {"response": response})

    def incomplete(self) -> None:
        reason = str_param(self.ctx.fault or Fault("incomplete"), "reason", "max_output_tokens")
        response = {**self.base, "status": "incomplete", "incomplete_details": {"reason": reason}}
        response.update(output=self.output, usage=self.usage())
        self.emit("response.incomplete", {"response": response})

    def failed(self, error: dict[str, Any]) -> None:
        base = self.base
        response = {key: base[key] for key in ("id", "object", "created_at")}
        response.update(status="failed", background=False, error=error, usage=None, user=None, metadata={})
        self.emit("response.failed", {"response": response})

    def failed_after_partial_text(self) -> list[bytes]:
        fault = self.ctx.fault or Fault("failed")
        pieces = answer_pieces(self.ctx.turn, self.ctx.text_deltas)
        index, item_id = self.open_message()
        for piece in pieces[: max(0, int_param(fault, "after", 2))]:
            self.text_delta(item_id, index, piece)
        code = str_param(fault, "code", "context_length_exceeded")
        message = str_param(fault, "message", CONTEXT_ERROR if code == "context_length_exceeded" else code)
        self.failed({"code": code, "message": message})
        return self.records

    # -- reasoning item ---------------------------------------------------------------------
    def reasoning_item(self) -> None:
        index, ctx = len(self.output), self.ctx
        item_id = ctx.ids.item("rs", index)
        self.emit(
            "response.output_item.added",
            {"output_index": index, "item": {"id": item_id, "type": "reasoning", "summary": []}},
        )
        summary: list[dict[str, Any]] = []
        if ctx.turn.wants_summary:
            summary.append({"type": "summary_text", "text": self.summary_part(item_id, index)})
        item: dict[str, Any] = {"id": item_id, "type": "reasoning"}
        if ctx.turn.include_encrypted:
            opaque = f"sim-encrypted-reasoning:{item_id}:{ctx.turn.model}".encode()
            item["encrypted_content"] = "gAAAAAB" + base64.urlsafe_b64encode(opaque).decode()
        item["summary"] = summary
        self.reasoning_tokens += 32 + sum(len(part["text"]) // 4 for part in summary)
        self.emit("response.output_item.done", {"output_index": index, "item": item})
        self.output.append(item)

    def summary_part(self, item_id: str, index: int) -> str:
        said = self.ctx.turn.user_text.strip()[:40] or "nothing in particular"
        deltas = [SUMMARY_TITLE, f"\n\nThe user wrote: {said}. A short, direct answer fits."]
        text = "".join(deltas)
        where = {"item_id": item_id, "output_index": index, "summary_index": 0}
        self.emit(
            "response.reasoning_summary_part.added", {**where, "part": {"type": "summary_text", "text": ""}}
        )
        for delta in deltas:
            self.emit("response.reasoning_summary_text.delta", {**where, "delta": delta})
        self.emit("response.reasoning_summary_text.done", {**where, "text": text})
        self.emit(
            "response.reasoning_summary_part.done", {**where, "part": {"type": "summary_text", "text": text}}
        )
        return text

    # -- message item -----------------------------------------------------------------------
    def open_message(self) -> tuple[int, str]:
        index = len(self.output)
        item_id = self.ctx.ids.item("msg", index)
        item = {"id": item_id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}
        self.emit("response.output_item.added", {"output_index": index, "item": item})
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
        where = {"item_id": item_id, "output_index": index, "content_index": 0}
        self.emit("response.content_part.added", {**where, "part": part})
        return index, item_id

    def text_delta(self, item_id: str, index: int, piece: str) -> None:
        self.records.append(
            b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":'
            + str(self.seq).encode()
            + b',"item_id":"'
            + item_id.encode()
            + b'","output_index":'
            + str(index).encode()
            + b',"content_index":0,"delta":'
            + orjson.dumps(piece)
            + b',"logprobs":[]}\n\n'
        )
        self.seq += 1

    def message_item(self, pieces: list[str], incomplete: bool = False) -> None:
        index, item_id = self.open_message()
        for piece in pieces:
            self.text_delta(item_id, index, piece)
        text = "".join(pieces)
        where = {"item_id": item_id, "output_index": index, "content_index": 0}
        self.emit("response.output_text.done", {**where, "text": text, "logprobs": []})
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
        self.emit("response.content_part.done", {**where, "part": part})
        status = "incomplete" if incomplete else "completed"
        item = {"id": item_id, "type": "message", "status": status, "content": [part], "role": "assistant"}
        self.emit("response.output_item.done", {"output_index": index, "item": item})
        self.output.append(item)
        self.output_tokens += len(text) // 4 + 1

    def compaction_item(self, account_id: str) -> None:
        """The thread's history compacted into one encrypted item (Codex's remote compaction v2)."""
        index = len(self.output)
        token = seal(account_id, f"compaction:{self.ctx.ids.response}")
        item = {"id": self.ctx.ids.item("cmp", index), "type": "compaction", "encrypted_content": token}
        self.emit("response.output_item.added", {"output_index": index, "item": item})
        self.emit("response.output_item.done", {"output_index": index, "item": item})
        self.output.append(item)
        self.output_tokens += 64

    # -- tool call items --------------------------------------------------------------------
    def tool_calls(self) -> None:
        for tool in self.ctx.tools:
            if tool.kind == "function":
                self.function_call_item(tool)
            else:
                self.custom_tool_call_item(tool)

    def function_call_item(self, tool: ToolRef) -> None:
        index = len(self.output)
        item_id, call_id, arguments = (
            self.ctx.ids.item("fc", index),
            self.ctx.ids.call(index),
            function_arguments(tool),
        )
        item = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": call_id,
            "name": tool.name,
        }
        self.emit("response.output_item.added", {"output_index": index, "item": item})
        where = {"item_id": item_id, "output_index": index}
        for piece in split_text(arguments, 3, pad=False):
            self.emit("response.function_call_arguments.delta", {**where, "delta": piece})
        self.emit("response.function_call_arguments.done", {**where, "arguments": arguments})
        item = {**item, "status": "completed", "arguments": arguments}
        self.emit("response.output_item.done", {"output_index": index, "item": item})
        self.output.append(item)
        self.output_tokens += len(arguments) // 4 + 8

    def custom_tool_call_item(self, tool: ToolRef) -> None:
        index = len(self.output)
        item_id, call_id, text = self.ctx.ids.item("ctc", index), self.ctx.ids.call(index), custom_input(tool)
        item = {
            "id": item_id,
            "type": "custom_tool_call",
            "status": "in_progress",
            "call_id": call_id,
            "name": tool.name,
            "input": "",
        }
        self.emit("response.output_item.added", {"output_index": index, "item": item})
        where = {"item_id": item_id, "output_index": index}
        self.emit("response.custom_tool_call_input.delta", {**where, "delta": text})
        self.emit("response.custom_tool_call_input.done", {**where, "input": text})
        item = {**item, "status": "completed", "input": text}
        self.emit("response.output_item.done", {"output_index": index, "item": item})
        self.output.append(item)
        self.output_tokens += len(text) // 4 + 8


def build_reply(ctx: ReplyContext) -> list[bytes]:
    """All SSE records of the turn described by ``ctx``."""
    return ReplyBuilder(ctx).build()
