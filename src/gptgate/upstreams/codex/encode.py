"""Canonical request -> the body and headers the official Codex client sends (codex-backend.md §1-2)."""

from __future__ import annotations

import platform
from typing import Final

from gptgate.accounts.model import Account
from gptgate.canonical.request import CanonicalRequest
from gptgate.types import JSONObject

#: Fields the backend answers 400 "Unsupported parameter" for (or that mean nothing with
#: store=false over HTTP). A Responses client's request is forwarded without them.
REJECTED: Final = frozenset(
    {
        "max_output_tokens",
        "max_completion_tokens",
        "max_tool_calls",
        "temperature",
        "top_p",
        "top_logprobs",
        "truncation",
        "user",
        "context_management",
        "prompt_cache_retention",
        "prompt_cache_options",
        "safety_identifier",
        "stream_options",
        "previous_response_id",
        "metadata",
        "background",
        "conversation",
        "generate",
    }
)
ENCRYPTED_REASONING: Final = "reasoning.encrypted_content"


def encode_body(req: CanonicalRequest) -> JSONObject:
    """The JSON body for ``POST …/codex/responses``."""
    body: JSONObject = {}
    if req.origin == "responses":
        body.update((k, v) for k, v in req.extras.items() if k not in REJECTED)
    body["model"] = req.model
    body["instructions"] = req.instructions or ""
    body["input"] = [_developer_not_system(item) for item in req.input]
    body["tools"] = req.tools
    body["tool_choice"] = req.tool_choice if req.tool_choice is not None else "auto"
    if req.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = req.parallel_tool_calls
    if req.reasoning is not None:
        body["reasoning"] = req.reasoning
    body["store"] = False
    body["stream"] = True
    body["include"] = _include(req)
    if req.prompt_cache_key:
        body["prompt_cache_key"] = req.prompt_cache_key
    if req.text:
        body["text"] = req.text
    if req.service_tier == "priority":
        body["service_tier"] = "priority"
    return body


def _include(req: CanonicalRequest) -> list[str]:
    include = [i for i in req.include or () if i != ENCRYPTED_REASONING]
    return [ENCRYPTED_REASONING, *include]


def _developer_not_system(item: JSONObject) -> JSONObject:
    """The backend rejects ``role: system`` inside ``input``; ``developer`` is its equivalent."""
    if item.get("role") == "system":
        return {**item, "role": "developer"}
    return item


def user_agent(originator: str, version: str) -> str:
    """``<originator>/<version> (<OS> <release>; <arch>) gptgate`` like the official client."""
    return f"{originator}/{version} ({platform.system()} {platform.release()}; {platform.machine()}) gptgate"


def build_headers(
    req: CanonicalRequest, account: Account, *, originator: str, version: str, agent: str
) -> dict[str, str]:
    headers = {
        "authorization": "Bearer " + account.access_token,
        "content-type": "application/json",
        "accept": "text/event-stream",
        "originator": originator,
        "user-agent": agent,
        "version": version,
    }
    if account.account_id:
        headers["chatgpt-account-id"] = account.account_id
    if req.prompt_cache_key:
        headers["session_id"] = req.prompt_cache_key
    headers.update(req.forward_headers)
    return headers
