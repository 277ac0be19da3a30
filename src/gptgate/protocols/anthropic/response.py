"""A folded canonical response -> one Anthropic ``message`` (the non-stream reply, §4.2, §7.4).

Also the two mappings the stream encoder shares: usage (Anthropic's ``input_tokens`` excludes
cache reads) and the stop-reason vocabulary.
"""

from __future__ import annotations

from typing import Final

from gptgate.canonical.hosted import citations, generated_image, search_query, search_sources
from gptgate.canonical.names import NameMap, safe_id
from gptgate.canonical.response import (
    StopReason,
    call_arguments,
    message_text,
    reasoning_summary,
    refusal_text,
    response_stop_reason,
    usage_of,
)
from gptgate.protocols.anthropic.decode import Thinking
from gptgate.protocols.anthropic.signature import sign
from gptgate.types import JSONObject

#: The canonical stop reasons in Anthropic's words (``error`` never reaches a reply).
STOP_REASONS: Final[dict[StopReason, str]] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "error": "end_turn",
}


def anthropic_usage(response: JSONObject | None) -> JSONObject:
    u = usage_of(response)
    return {
        "input_tokens": max(0, u.input_tokens - u.cached_tokens),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": u.cached_tokens,
        "output_tokens": u.output_tokens,
    }


def tool_id(item: JSONObject) -> str:
    """The ``tool_use`` id a client sees: the upstream's call id when already safe."""
    return safe_id(str(item.get("call_id") or item.get("id") or "toolu_gptgate"))


tool_input = call_arguments


def image_block(item: JSONObject) -> JSONObject | None:
    """A generated image as an ``image`` block with a base64 source."""
    image = generated_image(item)
    if image is None:
        return None
    return {"type": "image", "source": {"type": "base64", "media_type": image.mime, "data": image.b64}}


def search_blocks(item: JSONObject) -> tuple[JSONObject, JSONObject]:
    """A web search as Anthropic's server tool shows one: ``server_tool_use`` (its query) and
    ``web_search_tool_result`` (the pages the upstream listed, when it listed them)."""
    use_id = "srvtoolu_" + safe_id(str(item.get("id") or "search"))
    use = {
        "type": "server_tool_use",
        "id": use_id,
        "name": "web_search",
        "input": {"query": search_query(item)},
    }
    results = [
        {
            "type": "web_search_result",
            "url": s["url"],
            "title": str(s.get("title") or ""),
            "encrypted_content": "",
            "page_age": None,
        }
        for s in search_sources(item)
    ]
    return use, {"type": "web_search_tool_result", "tool_use_id": use_id, "content": results}


def text_citation(citation: JSONObject, text: str) -> JSONObject:
    """A canonical ``url_citation`` as Anthropic's ``web_search_result_location``."""
    return {
        "type": "web_search_result_location",
        "cited_text": text[citation["start_index"] : citation["end_index"]],
        "url": citation["url"],
        "title": citation["title"],
        "encrypted_index": "",
    }


def message(
    response: JSONObject, *, message_id: str, model: str, names: NameMap, thinking: Thinking
) -> JSONObject:
    content: list[JSONObject] = []
    for item in response.get("output") or ():
        kind = item.get("type")
        if kind == "reasoning" and thinking != "off":
            content.append(_thinking_block(item, thinking))
        elif kind == "message":
            text = message_text(item) + refusal_text(item)
            if text:
                block: JSONObject = {"type": "text", "text": text}
                if cited := citations(item):
                    block["citations"] = [text_citation(c, text) for c in cited]
                content.append(block)
        elif kind == "web_search_call":
            content.extend(search_blocks(item))
        elif (image := image_block(item)) is not None:
            content.append(image)
        elif kind == "function_call":
            content.append(
                {
                    "type": "tool_use",
                    "id": tool_id(item),
                    "name": names.client(str(item.get("name") or "")),
                    "input": tool_input(item.get("arguments")),
                }
            )
    usage = anthropic_usage(response)
    usage["cache_creation"] = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
    usage["service_tier"] = "standard"
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": STOP_REASONS[response_stop_reason(response)],
        "stop_sequence": None,
        "usage": usage,
    }


def _thinking_block(item: JSONObject, thinking: Thinking) -> JSONObject:
    text = reasoning_summary(item) if thinking == "shown" else ""
    signature = sign(item.get("id"), item.get("encrypted_content"))
    return {"type": "thinking", "thinking": text, "signature": signature}
