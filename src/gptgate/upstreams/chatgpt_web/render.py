"""What one web message shows the client, as text that only grows (chatgpt-web-backend.md §2).

The decoder sends the part of a message's rendering it has not sent yet, so every rendering
here must grow as the message grows: a fence opens with the first character of a tool call and
closes only when the message is finished. One function per kind of message:

* the answer (assistant, ``recipient`` all, channel final or none): its parts; image pointers
  as markdown images whose URL is what ``link`` makes of the pointer (a gateway download link,
  ``files/links.py``; without one, the pointer itself);
* a tool call (assistant, ``recipient`` python, ``dalle.text2im``, ``web.run`` ...): a fenced
  block, as chat2api shows it; memory writes (``bio``) are hidden;
* a tool result: code output fenced as ``Output``, generated images as markdown; browsing
  displays and other UI records are hidden;
* thoughts (``content_type: thoughts``): reasoning, never text; each thought renders as
  ``**summary**`` and its content, the shape of a Codex reasoning summary. The recap ("Thought
  for 4s") is hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from gptgate.types import JSONObject

HIDDEN_RECIPIENTS: Final = frozenset({"bio"})
HIDDEN_CHANNELS: Final = frozenset({"analysis", "commentary"})
FINISHED: Final = "finished_successfully"
TEXT_KINDS: Final = ("text", "multimodal_text")
#: pointer (``file-service://…``, ``sediment://…``) -> the URL the client gets
Link = Callable[[str], str]


def _same(pointer: str) -> str:
    return pointer


def is_finished(message: JSONObject) -> bool:
    return message.get("status") == FINISHED


def is_answer(message: JSONObject) -> bool:
    """An assistant message addressed to the user on the visible channel."""
    return (
        _role(message) == "assistant"
        and (message.get("recipient") or "all") == "all"
        and message.get("channel") not in HIDDEN_CHANNELS
    )


def field(message: JSONObject, name: str) -> JSONObject:
    """``message[name]`` when it is an object, else empty: a record with a string or a list
    where an object belongs (``author``, ``metadata``) is read as having nothing there."""
    value = message.get(name)
    return value if isinstance(value, dict) else {}


def _role(message: JSONObject) -> str:
    return str(field(message, "author").get("role") or "")


def _content(message: JSONObject) -> JSONObject:
    content = message.get("content")
    return content if isinstance(content, dict) else {}


def _fence(label: str, body: str, closed: bool) -> str:
    return f"```{label}\n{body}" + ("\n```" if closed else "")


def _parts_text(content: JSONObject, link: Link) -> str:
    out: list[str] = []
    for part in content.get("parts") or ():
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, dict) and part.get("content_type") == "image_asset_pointer":
            pointer = part.get("asset_pointer")
            out.append(f"![image]({link(pointer) if isinstance(pointer, str) and pointer else ''})")
    return "".join(out)


def visible_text(message: JSONObject, link: Link = _same) -> str | None:
    """The client-visible rendering of a message, or None when it shows nothing."""
    role = _role(message)
    if role == "assistant":
        return _assistant_text(message, link)
    if role == "tool":
        return _tool_text(message, link)
    return None  # user echo, hidden system messages


def plain_parts(message: JSONObject) -> list[Any] | None:
    """The ``parts`` list of a message whose rendering is exactly its one string part (an answer
    in text, the common case), else None: an ``append`` to that part then grows the rendering by
    the appended text, so the decoder can send it without rendering the message again."""
    if _role(message) != "assistant" or (message.get("recipient") or "all") != "all":
        return None
    content = _content(message)
    if message.get("channel") in HIDDEN_CHANNELS or content.get("content_type") not in TEXT_KINDS:
        return None
    parts = content.get("parts")
    return parts if isinstance(parts, list) and len(parts) == 1 and isinstance(parts[0], str) else None


def _assistant_text(message: JSONObject, link: Link) -> str | None:
    content = _content(message)
    kind = content.get("content_type")
    if kind in ("thoughts", "reasoning_recap"):
        return None
    recipient = message.get("recipient") or "all"
    if recipient == "all":
        if message.get("channel") in HIDDEN_CHANNELS or kind not in ("text", "multimodal_text"):
            return None
        return _parts_text(content, link)
    if recipient in HIDDEN_RECIPIENTS:
        return None
    body = content.get("text") if kind == "code" else _parts_text(content, link)
    language = content.get("language")
    label = language if isinstance(language, str) and language not in ("", "unknown") else recipient
    return _fence(str(label), str(body or ""), is_finished(message))


def _tool_text(message: JSONObject, link: Link) -> str | None:
    if field(message, "author").get("name") in HIDDEN_RECIPIENTS:
        return None
    content = _content(message)
    kind = content.get("content_type")
    if kind == "execution_output":
        return _fence("Output", str(content.get("text") or ""), is_finished(message))
    if kind == "multimodal_text":
        return _parts_text(content, link) or None
    return None


def thought_text(thought: JSONObject) -> str:
    """One thought as a summary: ``**title**\\n\\ncontent``; nothing until its content starts
    (a title still being streamed would otherwise be sent twice)."""
    summary = str(thought.get("summary") or "")
    body = str(thought.get("content") or "")
    if not body and not thought.get("finished"):
        return ""
    return f"**{summary}**\n\n{body}" if summary else body


def thoughts(message: JSONObject) -> list[JSONObject] | None:
    """The thoughts of a reasoning message, or None for any other message."""
    if _role(message) != "assistant":
        return None
    content = _content(message)
    if content.get("content_type") != "thoughts":
        return None
    items = content.get("thoughts")
    return [t for t in items if isinstance(t, dict)] if isinstance(items, list) else []


def finish_type(message: JSONObject) -> str | None:
    details = field(message, "metadata").get("finish_details")
    return str(details.get("type")) if isinstance(details, dict) and details.get("type") else None
