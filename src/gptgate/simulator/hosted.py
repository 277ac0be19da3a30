"""The backend's own tools in a simulated turn: image generation and web search.

The request offers them as ``{"type": "image_generation", ...}`` and ``{"type": "web_search"}``
(codex-backend.md §2.3); the model runs them on the server side and the client only sees their
items. A turn uses one when it is offered and asked for:

* image: ``[[sim:image]]``, ``tool_choice`` ``{"type": "image_generation"}``, or a user message
  that asks for an image, a picture, a drawing or a photo;
* search: ``[[sim:search]]``, ``tool_choice`` ``{"type": "web_search"}``, or a user message that
  says "search the web", "web search" or "look up".

Codex CLI offers ``web_search`` on every turn, so plain prompts never search. An image turn is an
``image_generation_call`` item (events ``response.image_generation_call.in_progress`` →
``generating`` → ``completed``) whose ``result`` is a real PNG of the requested ``size`` (one
colour from the prompt, a few hundred bytes), then a one-line message. A search turn is a
``web_search_call`` item (``in_progress`` → ``searching`` → ``completed``, ``action`` with the
query) and then a message whose text cites two pages, with ``url_citation`` annotations sent as
``response.output_text.annotation.added`` and kept on the final ``output_text`` part.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import zlib
from typing import TYPE_CHECKING, Any, Final, Literal

from gptgate.simulator.turn import Turn

if TYPE_CHECKING:
    from gptgate.simulator.replies import ReplyBuilder

HostedKind = Literal["image", "search"]
KINDS: Final = frozenset({"image", "search"})
IMAGE_WORDS: Final = re.compile(r"\b(image|picture|drawing|draw|photo|illustration)s?\b", re.IGNORECASE)
SEARCH_WORDS: Final = re.compile(r"search the web|web search|look up", re.IGNORECASE)
IMAGE_ANSWER: Final = "Here is the image you asked for."
DEFAULT_SIZE: Final = (1024, 1024)
MAX_SIDE: Final = 2048
SOURCES: Final = (
    ("https://example.com/search-result-1", "Example Domain"),
    ("https://example.org/search-result-2", "Example Organisation"),
)


def _offered(body: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for tool in body.get("tools") or ():
        if isinstance(tool, dict) and tool.get("type") == kind:
            return tool
    return None


def choose_hosted(turn: Turn, asked: HostedKind | None) -> HostedKind | None:
    """The hosted tool this turn runs (None: none offered, or none asked for)."""
    if turn.tool_output is not None:
        return None
    body, choice = turn.body, turn.body.get("tool_choice")
    forced = choice.get("type") if isinstance(choice, dict) else None
    if _offered(body, "image_generation") is not None and (
        asked == "image" or forced == "image_generation" or IMAGE_WORDS.search(turn.user_text)
    ):
        return "image"
    if _offered(body, "web_search") is not None and (
        asked == "search" or forced == "web_search" or SEARCH_WORDS.search(turn.user_text)
    ):
        return "search"
    return None


# -- image --------------------------------------------------------------------------------------
def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG of one colour (8-bit RGB, no interlace)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(row * height, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def image_size(tool: dict[str, Any]) -> tuple[int, int]:
    found = re.fullmatch(r"(\d{2,4})x(\d{2,4})", str(tool.get("size") or ""))
    if found is None:
        return DEFAULT_SIZE
    return min(int(found[1]), MAX_SIDE), min(int(found[2]), MAX_SIDE)


def image_item(builder: ReplyBuilder) -> None:
    turn = builder.ctx.turn
    tool = _offered(turn.body, "image_generation") or {}
    index = len(builder.output)
    item_id = builder.ctx.ids.item("ig", index)
    where = {"output_index": index, "item_id": item_id}
    added = {"id": item_id, "type": "image_generation_call", "status": "in_progress"}
    builder.emit("response.output_item.added", {"output_index": index, "item": added})
    builder.emit("response.image_generation_call.in_progress", where)
    builder.emit("response.image_generation_call.generating", where)
    prompt = turn.user_text.strip() or "an image"
    colour = tuple(hashlib.blake2b(prompt.encode(), digest_size=3).digest())
    width, height = image_size(tool)
    result = base64.b64encode(png(width, height, (colour[0], colour[1], colour[2]))).decode()
    builder.emit("response.image_generation_call.completed", where)
    item = {
        "id": item_id,
        "type": "image_generation_call",
        "status": "completed",
        "background": tool.get("background") or "opaque",
        "output_format": "png",
        "quality": tool.get("quality") or "medium",
        "result": result,
        "revised_prompt": f"A picture of {prompt[:200]}",
        "size": f"{width}x{height}",
    }
    builder.emit("response.output_item.done", {"output_index": index, "item": item})
    builder.output.append(item)
    builder.output_tokens += 272


# -- web search ---------------------------------------------------------------------------------
def search_item(builder: ReplyBuilder) -> str:
    """The search call; returns its query."""
    turn = builder.ctx.turn
    index = len(builder.output)
    item_id = builder.ctx.ids.item("ws", index)
    query = turn.user_text.strip()[:80] or "gptgate"
    where = {"output_index": index, "item_id": item_id}
    added = {"id": item_id, "type": "web_search_call", "status": "in_progress"}
    builder.emit("response.output_item.added", {"output_index": index, "item": added})
    builder.emit("response.web_search_call.in_progress", where)
    builder.emit("response.web_search_call.searching", where)
    builder.emit("response.web_search_call.completed", where)
    action: dict[str, Any] = {"type": "search", "query": query}
    include = turn.body.get("include")
    if isinstance(include, list) and "web_search_call.action.sources" in include:
        action["sources"] = [{"type": "url", "url": url} for url, _ in SOURCES]
    item = {"id": item_id, "type": "web_search_call", "status": "completed", "action": action}
    builder.emit("response.output_item.done", {"output_index": index, "item": item})
    builder.output.append(item)
    return query


def cited_text(query: str) -> tuple[str, list[dict[str, Any]]]:
    """The answer's text and its ``url_citation`` annotations (character offsets)."""
    text = f"Here is what the web says about {query}: "
    annotations: list[dict[str, Any]] = []
    for number, (url, title) in enumerate(SOURCES):
        text += "the first source " if number == 0 else " and the second source "
        link = f"([{title}]({url}))"
        annotations.append(
            {
                "type": "url_citation",
                "start_index": len(text),
                "end_index": len(text) + len(link),
                "url": url,
                "title": title,
            }
        )
        text += link
    return text + ".", annotations


def cited_message(builder: ReplyBuilder, query: str) -> None:
    from gptgate.simulator.replies import split_text

    text, annotations = cited_text(query)
    index, item_id = builder.open_message()
    for piece in split_text(text, builder.ctx.text_deltas, pad=False):
        builder.text_delta(item_id, index, piece)
    where = {"item_id": item_id, "output_index": index, "content_index": 0}
    for number, annotation in enumerate(annotations):
        builder.emit(
            "response.output_text.annotation.added",
            {**where, "annotation_index": number, "annotation": annotation},
        )
    builder.emit("response.output_text.done", {**where, "text": text, "logprobs": []})
    part = {"type": "output_text", "annotations": annotations, "logprobs": [], "text": text}
    builder.emit("response.content_part.done", {**where, "part": part})
    item = {"id": item_id, "type": "message", "status": "completed", "content": [part], "role": "assistant"}
    builder.emit("response.output_item.done", {"output_index": index, "item": item})
    builder.output.append(item)
    builder.output_tokens += len(text) // 4 + 1


def hosted_turn(builder: ReplyBuilder, kind: HostedKind) -> None:
    """The items of a turn that ran ``kind``: the call, then the message."""
    if kind == "image":
        image_item(builder)
        builder.message_item([IMAGE_ANSWER])
    else:
        cited_message(builder, search_item(builder))
