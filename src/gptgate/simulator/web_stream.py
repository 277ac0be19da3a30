"""SSE bodies of the simulated web conversation backend, in both formats, shaped as
``tests/fixtures/web/*.sse``: delta encoding v1 (typed records, a root ``add`` per message,
``append`` with sticky paths, a closing ``patch``) and the old full-snapshot format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"


@dataclass(slots=True)
class WebReply:
    conversation_id: str
    user_message_id: str
    slug: str
    answer: str
    pieces: int = 4
    thoughts: str | None = None
    gizmo_id: str | None = None
    finish: bool = True
    #: an image-generation result shown before the answer: (pointer, width, height)
    image: tuple[str, int, int] | None = None


def _data(value: Any, event: str | None = None) -> bytes:
    head = b"" if event is None else b"event: " + event.encode() + b"\n"
    return head + b"data: " + orjson.dumps(value) + b"\n\n"


def _pieces(text: str, count: int) -> list[str]:
    count = max(1, min(count, len(text) or 1))
    size, extra = divmod(len(text), count)
    out, pos = [], 0
    for index in range(count):
        end = pos + size + (1 if index < extra else 0)
        out.append(text[pos:end])
        pos = end
    return out


def _message(reply: WebReply, message_id: str, content: dict[str, Any], **fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": message_id,
        "author": {"role": "assistant", "name": None, "metadata": {}},
        "create_time": 1781860000.0,
        "update_time": None,
        "content": content,
        "status": "in_progress",
        "end_turn": None,
        "weight": 1.0,
        "metadata": {
            "citations": [],
            "content_references": [],
            "gizmo_id": reply.gizmo_id,
            "message_type": "next",
            "model_slug": reply.slug,
            "default_model_slug": "auto",
            "parent_id": reply.user_message_id,
        },
        "recipient": "all",
        "channel": "final",
    }
    message.update(fields)
    return message


def _root(reply: WebReply, message: dict[str, Any]) -> dict[str, Any]:
    return {"message": message, "conversation_id": reply.conversation_id, "error": None}


def _finish_patch(path: str, last: str) -> list[dict[str, Any]]:
    return [
        {"p": path, "o": "append", "v": last},
        {"p": "/message/status", "o": "replace", "v": "finished_successfully"},
        {"p": "/message/end_turn", "o": "replace", "v": True},
        {
            "p": "/message/metadata",
            "o": "append",
            "v": {"is_complete": True, "finish_details": {"type": "stop"}},
        },
    ]


def _image_message(reply: WebReply, message_id: str) -> dict[str, Any]:
    """The image tool's finished result: a ``multimodal_text`` tool message with the pointer."""
    assert reply.image is not None
    pointer, width, height = reply.image
    part = {
        "content_type": "image_asset_pointer",
        "asset_pointer": pointer,
        "size_bytes": 0,
        "width": width,
        "height": height,
        "metadata": {"generation": {"gen_id": "gen_sim", "width": width, "height": height}},
    }
    message = _message(reply, message_id, {"content_type": "multimodal_text", "parts": [part]})
    message.update(
        author={"role": "tool", "name": "t2uay3k.sj1i4kz", "metadata": {}},
        status="finished_successfully",
        recipient="all",
        channel=None,
    )
    return message


def v1_body(reply: WebReply, ids: list[str]) -> list[bytes]:
    """Records of a v1 stream; ``ids`` are the assistant message ids to use, in order."""
    cid = reply.conversation_id
    out = [_data("v1", "delta_encoding")]
    out.append(
        _data({"type": "resume_conversation_token", "kind": "topic", "token": "sim", "conversation_id": cid})
    )
    counter = 0
    if reply.thoughts is not None:
        content = {"content_type": "thoughts", "thoughts": [], "source_analysis_msg_id": ids[-1]}
        message = _message(reply, ids.pop(0), content, channel="analysis")
        out.append(_data({"p": "", "o": "add", "v": _root(reply, message), "c": counter}, "delta"))
        thought = {"summary": "Thinking it over", "content": "", "chunks": [], "finished": False}
        out.append(_data({"p": "/message/content/thoughts", "o": "append", "v": [thought]}, "delta"))
        out.append(
            _data({"p": "/message/content/thoughts/0/content", "o": "append", "v": reply.thoughts}, "delta")
        )
        done = [{"p": "/message/content/thoughts/0/finished", "o": "replace", "v": True}]
        done.append({"p": "/message/status", "o": "replace", "v": "finished_successfully"})
        out.append(_data({"p": "", "o": "patch", "v": done}, "delta"))
        recap = _message(reply, ids.pop(0), {"content_type": "reasoning_recap", "content": "Thought for 1s"})
        recap.update(status="finished_successfully", channel="analysis")
        out.append(_data({"v": _root(reply, recap), "c": counter + 1}, "delta"))
        counter += 2
    if reply.image is not None:
        image = _image_message(reply, ids.pop(0))
        out.append(_data({"p": "", "o": "add", "v": _root(reply, image), "c": counter}, "delta"))
        counter += 1
    message = _message(reply, ids.pop(0), {"content_type": "text", "parts": [""]})
    out.append(_data({"p": "", "o": "add", "v": _root(reply, message), "c": counter}, "delta"))
    pieces = _pieces(reply.answer, reply.pieces)
    path = "/message/content/parts/0"
    for index, piece in enumerate(pieces[:-1]):
        out.append(_data({"p": path, "o": "append", "v": piece} if index == 0 else {"v": piece}, "delta"))
    if not reply.finish:
        out.append(_data({"v": pieces[-1]}, "delta"))
        return [*out, DONE]
    out.append(_data({"p": "", "o": "patch", "v": _finish_patch(path, pieces[-1])}, "delta"))
    meta = {"model_slug": reply.slug, "plan_type": "plus", "tool_invoked": False}
    out.append(_data({"type": "server_ste_metadata", "metadata": meta, "conversation_id": cid}))
    out.append(_data({"type": "message_stream_complete", "conversation_id": cid}))
    out.append(_data({"type": "title_generation", "title": "Simulated chat", "conversation_id": cid}))
    return [*out, DONE]


def old_body(reply: WebReply, ids: list[str]) -> list[bytes]:
    """Records of an old-format stream: a snapshot of the whole message per record."""
    out = [] if reply.image is None else [_data(_root(reply, _image_message(reply, ids.pop(0))))]
    message_id, text = ids.pop(0), ""
    for piece in _pieces(reply.answer, reply.pieces):
        text += piece
        message = _message(reply, message_id, {"content_type": "text", "parts": [text]}, channel=None)
        out.append(_data(_root(reply, message)))
    if reply.finish:
        message = _message(reply, message_id, {"content_type": "text", "parts": [text]}, channel=None)
        message.update(status="finished_successfully", end_turn=True)
        message["metadata"].update(is_complete=True, finish_details={"type": "stop", "stop_tokens": [200002]})
        out.append(_data(_root(reply, message)))
        moderation = {"flagged": False, "blocked": False, "moderation_id": "modr-sim"}
        out.append(
            _data(
                {
                    "type": "moderation",
                    "conversation_id": reply.conversation_id,
                    "message_id": message_id,
                    "is_completion": True,
                    "moderation_response": moderation,
                }
            )
        )
    return [*out, DONE]
