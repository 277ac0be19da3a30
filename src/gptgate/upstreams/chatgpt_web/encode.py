"""Canonical request -> the conversation request (chatgpt-web-backend.md §1).

The web backend takes a list of messages and answers one assistant turn; it has no function
tools, no structured outputs and no sampling knobs. A new chat replays the whole history as
messages under the parent ``client-created-root`` (chat2api's current form); a follow-up turn of
a kept conversation sends only the new message under the last assistant message id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from gptgate import errors
from gptgate.accounts.model import Account
from gptgate.canonical.request import CanonicalRequest
from gptgate.types import JSONObject
from gptgate.upstreams.chatgpt_web.files import PartKey, Uploaded
from gptgate.upstreams.chatgpt_web.models import WebModel

CONVERSATION_PATH: Final = "/backend-api/conversation"
F_CONVERSATION_PATH: Final = "/backend-api/f/conversation"
PATHS: Final = frozenset({CONVERSATION_PATH, F_CONVERSATION_PATH})
ROOT_PARENT: Final = "client-created-root"
ROLES: Final = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
TEXT_PARTS: Final = frozenset({"input_text", "output_text", "text"})
MEDIA_PARTS: Final = frozenset({"input_image", "input_file"})
#: Tool kinds the web backend runs on its own side (the client's declaration is not needed).
HOSTED_TOOLS: Final = frozenset({"web_search", "web_search_preview", "image_generation", "code_interpreter"})


@dataclass(slots=True)
class ConversationOptions:
    """Per-upstream settings of the request (chat2api's env names in brackets)."""

    history_disabled: bool = True  # HISTORY_DISABLED
    language: str = "en-US"  # OAI_LANGUAGE
    timezone: str = "UTC"
    timezone_offset_min: int = 0
    #: gateway-specific headers, such as ``authkey`` (AUTH_KEY)
    extra_headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class FollowUp:
    """Continue a conversation kept upstream (history enabled)."""

    conversation_id: str
    parent_message_id: str


def new_id() -> str:
    return str(uuid.uuid4())


def encode_body(
    req: CanonicalRequest,
    model: WebModel,
    options: ConversationOptions,
    *,
    follow_up: FollowUp | None = None,
    make_id: Callable[[], str] = new_id,
    uploads: Mapping[PartKey, Uploaded] | None = None,
) -> JSONObject:
    """The JSON body of ``POST …/conversation``; raises ``UnsupportedFeature`` for what the web
    backend cannot do (function tools). ``uploads``: the request's images and files, uploaded
    (``files.py``), by where their parts are."""
    _check_supported(req)
    messages = encode_messages(req, make_id, uploads or {})
    if follow_up is not None:
        messages = messages[-1:]
    body: JSONObject = {
        "action": "next",
        "messages": messages,
        "parent_message_id": follow_up.parent_message_id if follow_up else ROOT_PARENT,
        "model": model.slug,
    }
    if follow_up is not None:
        body["conversation_id"] = follow_up.conversation_id
    body["conversation_mode"] = (
        {"kind": "gizmo_interaction", "gizmo_id": model.gizmo_id}
        if model.gizmo_id
        else {"kind": "primary_assistant"}
    )
    if options.history_disabled:
        body["history_and_training_disabled"] = True
    body.update(
        force_use_sse=True,
        supported_encodings=["v1"],
        system_hints=[],
        timezone_offset_min=options.timezone_offset_min,
        timezone=options.timezone,
        variant_purpose="comparison_implicit",
    )
    return body


def _check_supported(req: CanonicalRequest) -> None:
    for tool in req.tools:
        kind = tool.get("type")
        if kind not in HOSTED_TOOLS:
            name = tool.get("name") or kind
            raise errors.UnsupportedFeature(
                f"the ChatGPT web upstream cannot call client tools ({kind} {name!r})", param="tools"
            )
    if req.text and (req.text.get("format") or {}).get("type") in ("json_schema", "json_object"):
        raise errors.UnsupportedFeature(
            "the ChatGPT web upstream cannot enforce a response format", param="response_format"
        )


def encode_messages(
    req: CanonicalRequest,
    make_id: Callable[[], str] = new_id,
    uploads: Mapping[PartKey, Uploaded] | None = None,
) -> list[JSONObject]:
    """Instructions as a system message, then every message item, in order."""
    out: list[JSONObject] = []
    if req.instructions:
        out.append(_message(make_id(), "system", [req.instructions]))
    for index, item in enumerate(req.input):
        kind = item.get("type", "message")
        if kind == "message":
            role = ROLES.get(str(item.get("role")))
            if role is None:
                raise errors.UnsupportedFeature(
                    f"role {item.get('role')!r} on the web upstream", param="input"
                )
            content = item.get("content")
            media = _media(index, content, uploads or {})
            if media and isinstance(content, list):
                out.append(_multimodal(make_id(), role, content, media))
            else:
                out.append(_message(make_id(), role, _texts(content)))
        elif kind != "reasoning":  # past reasoning is the model's own business: dropped
            raise errors.UnsupportedFeature(
                f"the ChatGPT web upstream cannot replay {kind} items (no client tools)", param="input"
            )
    return out


def _texts(content: object) -> list[str]:
    if isinstance(content, str):
        return [content]
    parts: list[str] = []
    for part in content if isinstance(content, list) else ():
        kind = part.get("type")
        if kind in TEXT_PARTS:
            parts.append(str(part.get("text") or ""))
        elif kind == "refusal":
            parts.append(str(part.get("refusal") or ""))
        elif kind in MEDIA_PARTS:
            raise errors.UnsupportedFeature(f"{kind} content was not uploaded", param="input")
        else:
            raise errors.UnsupportedFeature(
                f"{kind} content is not supported on the ChatGPT web upstream yet", param="input"
            )
    return parts


def _message(message_id: str, role: str, parts: list[str]) -> JSONObject:
    return {
        "id": message_id,
        "author": {"role": role},
        "content": {"content_type": "text", "parts": ["\n\n".join(parts)]},
        "metadata": {},
    }


def _media(index: int, content: object, uploads: Mapping[PartKey, Uploaded]) -> dict[int, Uploaded]:
    """This message's uploaded parts, by part index."""
    if not isinstance(content, list):
        return {}
    return {j: uploads[index, j] for j in range(len(content)) if (index, j) in uploads}


def _multimodal(
    message_id: str, role: str, content: list[JSONObject], media: dict[int, Uploaded]
) -> JSONObject:
    """Text and image pointers in the order the client wrote them; every upload also in
    ``metadata.attachments``, where a non-image file is the only trace (§3.2)."""
    parts: list[object] = []
    attachments: list[JSONObject] = []
    for j, part in enumerate(content):
        upload = media.get(j)
        if upload is None:
            parts.extend(_texts([part]))
            continue
        attachment: JSONObject = {
            "id": upload.file_id,
            "size": upload.size,
            "name": upload.name,
            "mime_type": upload.mime,
        }
        if upload.is_image:
            parts.append(
                {
                    "content_type": "image_asset_pointer",
                    "asset_pointer": "file-service://" + upload.file_id,
                    "size_bytes": upload.size,
                    "width": upload.width,
                    "height": upload.height,
                }
            )
            attachment.update(width=upload.width, height=upload.height)
        attachments.append(attachment)
    images = any(isinstance(p, dict) for p in parts)
    body: JSONObject = (
        {"content_type": "multimodal_text", "parts": parts}
        if images
        else {"content_type": "text", "parts": ["\n\n".join(str(p) for p in parts)]}
    )
    return {
        "id": message_id,
        "author": {"role": role},
        "content": body,
        "metadata": {"attachments": attachments},
    }


def build_headers(
    account: Account,
    options: ConversationOptions,
    *,
    base_url: str,
    device_id: str,
    accept: str = "text/event-stream",
) -> dict[str, str]:
    """Protocol headers (§1.2); browser fingerprint headers are the operator gateway's job."""
    headers = {
        "authorization": "Bearer " + account.access_token,
        "content-type": "application/json",
        "accept": accept,
        "oai-device-id": device_id,
        "oai-language": options.language,
        "origin": base_url,
        "referer": base_url + "/",
    }
    if account.account_id:
        headers["chatgpt-account-id"] = account.account_id
    headers.update(options.extra_headers)
    return headers


def device_id(account: Account) -> str:
    """A stable device id per account (as ChatGPT-to-API derives it): a UUIDv5 of the account."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "gptgate:" + (account.account_id or account.id)))
