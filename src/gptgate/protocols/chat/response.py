"""A folded canonical response -> one ``chat.completion`` object (the non-stream reply)."""

from __future__ import annotations

from gptgate.canonical.hosted import ImageLink, citations, data_url_link, generated_image
from gptgate.canonical.response import message_text, reasoning_summary, refusal_text, response_stop_reason
from gptgate.protocols.chat.encode import ReasoningMode, chat_annotation, chat_usage, image_markdown
from gptgate.types import JSONObject


def completion(
    response: JSONObject,
    *,
    completion_id: str,
    created: int,
    model: str,
    reasoning: ReasoningMode,
    link: ImageLink = data_url_link,
) -> JSONObject:
    text: list[str] = []
    annotations: list[JSONObject] = []
    chars = 0
    thoughts: list[str] = []
    refusal: list[str] = []
    calls: list[JSONObject] = []
    for item in response.get("output") or ():
        kind = item.get("type")
        if kind == "message":
            text.append(message_text(item))
            refusal.append(refusal_text(item))
            for citation in citations(item):
                citation["start_index"] += chars
                citation["end_index"] += chars
                annotations.append(chat_annotation(citation))
            chars += len(text[-1])
        elif (image := generated_image(item)) is not None:
            text.append(image_markdown(link(image), chars > 0))
            chars += len(text[-1])
        elif kind == "reasoning":
            if summary := reasoning_summary(item):
                thoughts.append(summary)
        elif kind == "function_call":
            fn = {"name": item.get("name"), "arguments": item.get("arguments") or ""}
            calls.append({"id": item.get("call_id"), "type": "function", "function": fn})
        elif kind == "custom_tool_call":
            custom = {"name": item.get("name"), "input": item.get("input") or ""}
            calls.append({"id": item.get("call_id"), "type": "custom", "custom": custom})
    message = _message("".join(text), "\n\n".join(thoughts), "".join(refusal), reasoning)
    message["annotations"] = annotations
    if calls:
        message["tool_calls"] = calls
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": response_stop_reason(response),
            }
        ],
        "usage": chat_usage(response),
        "service_tier": "default",
        "system_fingerprint": None,
    }


def _message(text: str, thoughts: str, refusal: str, reasoning: ReasoningMode) -> JSONObject:
    if reasoning == "think" and thoughts:
        text = f"<think>\n{thoughts}\n</think>\n\n{text}"
    message: JSONObject = {"role": "assistant", "content": text or None, "refusal": refusal or None}
    if thoughts and reasoning in ("reasoning_content", "reasoning"):
        message[reasoning] = thoughts
    message["annotations"] = []
    return message
