"""Canonical response -> ``GenerateContentResponse`` (client-apis.md §5.3, §7.6).

The non-stream reply is built here from the folded response; the pieces both replies share
(usage, finish reason, the function-call part, where a thought signature goes) live here too.

Signature placement, stream and non-stream alike: the signature of a reasoning item goes on the
next part that is not a thought (a text part or the first ``functionCall``), as Gemini places its
own; when no such part follows, on an empty text part. Thought parts themselves never carry it,
so a client that strips thoughts from its history still sends the reasoning back.
"""

from __future__ import annotations

from typing import Final

from gptgate.canonical.hosted import citations, generated_image, search_query, utf8_offsets
from gptgate.canonical.names import NameMap
from gptgate.canonical.response import (
    StopReason,
    call_arguments,
    message_text,
    reasoning_summary,
    refusal_text,
    response_stop_reason,
    usage_of,
)
from gptgate.protocols.gemini import signature
from gptgate.types import JSONObject

#: There is no tool-call finish reason in Gemini: a turn that ends in function calls is STOP.
FINISH: Final[dict[StopReason, str]] = {
    "stop": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "error": "OTHER",
}


def usage_metadata(response: JSONObject | None) -> JSONObject:
    """``candidatesTokenCount`` excludes thoughts; ``totalTokenCount`` = prompt + candidates + thoughts."""
    u = usage_of(response)
    return {
        "promptTokenCount": u.input_tokens,
        "candidatesTokenCount": max(0, u.output_tokens - u.reasoning_tokens),
        "totalTokenCount": u.total_tokens,
        "cachedContentTokenCount": u.cached_tokens,
        "thoughtsTokenCount": u.reasoning_tokens,
    }


def function_call(item: JSONObject, names: NameMap) -> JSONObject:
    """A whole ``functionCall``: the client's tool name and ``args`` as an object (never partial)."""
    return {
        "id": item.get("call_id"),
        "name": names.client(item.get("name") or ""),
        "args": parse_args(item.get("arguments")),
    }


parse_args = call_arguments


class Grounding:
    """``groundingMetadata`` from the turn's searches and its messages' citations: the queries,
    one ``groundingChunks`` entry per cited page, one ``groundingSupports`` entry per citation
    (its segment in UTF-8 byte offsets over the answer's text, as Gemini counts)."""

    __slots__ = ("_base", "_chunks", "_queries", "_supports")

    def __init__(self) -> None:
        self._queries: list[str] = []
        self._chunks: dict[str, JSONObject] = {}
        self._supports: list[JSONObject] = []
        self._base = 0

    def add(self, item: JSONObject) -> None:
        kind = item.get("type")
        if kind == "web_search_call":
            if query := search_query(item):
                self._queries.append(query)
        elif kind == "message":
            text = message_text(item)
            for citation in citations(item):
                start, end = utf8_offsets(text, citation["start_index"], citation["end_index"])
                web = {"uri": citation["url"], "title": citation["title"]}
                index = list(self._chunks).index(citation["url"]) if citation["url"] in self._chunks else None
                if index is None:
                    index = len(self._chunks)
                    self._chunks[citation["url"]] = {"web": web}
                segment = {
                    "startIndex": self._base + start,
                    "endIndex": self._base + end,
                    "text": text[citation["start_index"] : citation["end_index"]],
                }
                self._supports.append({"segment": segment, "groundingChunkIndices": [index]})
            self._base += len(text.encode())

    def metadata(self) -> JSONObject | None:
        if not self._queries and not self._chunks:
            return None
        meta: JSONObject = {"webSearchQueries": self._queries}
        if self._chunks:
            meta["groundingChunks"] = list(self._chunks.values())
            meta["groundingSupports"] = self._supports
        return meta


def inline_image(item: JSONObject) -> JSONObject | None:
    """A generated image as Gemini returns its own: an ``inlineData`` part."""
    image = generated_image(item)
    return None if image is None else {"inlineData": {"mimeType": image.mime, "data": image.b64}}


def generate_content_response(
    response: JSONObject, *, response_id: str, model: str, include_thoughts: bool, names: NameMap
) -> JSONObject:
    parts: list[JSONObject] = []
    pending: str | None = None
    grounding = Grounding()
    for item in response.get("output") or ():
        kind = item.get("type")
        grounding.add(item)
        part: JSONObject | None = inline_image(item)
        if kind == "reasoning":
            if include_thoughts and (summary := reasoning_summary(item)):
                parts.append({"text": summary, "thought": True})
            if encrypted := item.get("encrypted_content"):
                if pending is not None:
                    parts.append({"text": "", "thoughtSignature": pending})
                pending = signature.encode(encrypted)
        elif kind == "message":
            text = message_text(item) + refusal_text(item)
            part = {"text": text} if text else None
        elif kind == "function_call":
            part = {"functionCall": function_call(item, names)}
        if part is not None:
            if pending is not None:
                part["thoughtSignature"], pending = pending, None
            parts.append(part)
    if pending is not None or not any("thought" not in p for p in parts):
        parts.append({"text": "", "thoughtSignature": pending} if pending else {"text": ""})
    candidate: JSONObject = {
        "content": {"role": "model", "parts": parts},
        "finishReason": FINISH[response_stop_reason(response)],
        "index": 0,
    }
    if (meta := grounding.metadata()) is not None:
        candidate["groundingMetadata"] = meta
    return {
        "candidates": [candidate],
        "usageMetadata": usage_metadata(response),
        "modelVersion": model,
        "responseId": response_id,
    }
