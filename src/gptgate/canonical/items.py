"""Builders for the canonical (Responses-shaped) input items and content parts."""

from __future__ import annotations

from gptgate.types import JSONObject


def text_part(role: str, text: str) -> JSONObject:
    """A text content part: ``output_text`` for assistant turns, ``input_text`` otherwise."""
    return {"type": "output_text" if role == "assistant" else "input_text", "text": text}


def image_part(url: str, detail: str | None = None) -> JSONObject:
    part: JSONObject = {"type": "input_image", "image_url": url}
    if detail:
        part["detail"] = detail
    return part


def file_part(
    *, file_data: str | None = None, file_url: str | None = None, filename: str | None = None
) -> JSONObject:
    part: JSONObject = {"type": "input_file"}
    if file_data is not None:
        part["file_data"] = file_data
    if file_url is not None:
        part["file_url"] = file_url
    if filename:
        part["filename"] = filename
    return part


def message(role: str, content: list[JSONObject]) -> JSONObject:
    return {"type": "message", "role": role, "content": content}


def function_call(call_id: str, name: str, arguments: str) -> JSONObject:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}


def function_call_output(call_id: str, output: str | list[JSONObject]) -> JSONObject:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def custom_tool_call(call_id: str, name: str, input: str) -> JSONObject:
    return {"type": "custom_tool_call", "call_id": call_id, "name": name, "input": input}


def custom_tool_call_output(call_id: str, output: str | list[JSONObject]) -> JSONObject:
    return {"type": "custom_tool_call_output", "call_id": call_id, "output": output}


def reasoning(
    encrypted_content: str, summary: list[str] | None = None, item_id: str | None = None
) -> JSONObject:
    item: JSONObject = {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": s} for s in summary or ()],
        "encrypted_content": encrypted_content,
    }
    if item_id:
        item["id"] = item_id
    return item


def function_tool(
    name: str, description: str | None, parameters: JSONObject | None, strict: bool | None
) -> JSONObject:
    tool: JSONObject = {"type": "function", "name": name}
    if description is not None:
        tool["description"] = description
    tool["parameters"] = parameters if parameters is not None else {"type": "object", "properties": {}}
    if strict is not None:
        tool["strict"] = strict
    return tool
