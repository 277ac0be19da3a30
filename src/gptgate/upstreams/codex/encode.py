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
    body: JSONObject = {
        "model": req.model,
        "instructions": req.instructions or "",
        # the backend rejects ``role: system`` inside ``input``; ``developer`` is its equivalent
        "input": [{**i, "role": "developer"} if i.get("role") == "system" else i for i in req.input],
        "tools": req.tools,
        "tool_choice": req.tool_choice if req.tool_choice is not None else "auto",
    }
    if req.origin == "responses" and req.extras:  # the client's other fields come first
        head, body = body, {k: v for k, v in req.extras.items() if k not in REJECTED}
        body.update(head)
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


#: doors whose clients can never hand a reasoning item back: their requests do not ask for the
#: encrypted reasoning (kilobytes per reasoning item, in its ``done`` event and again in
#: ``response.completed``, read and parsed for nothing). Anthropic and Gemini carry it back in
#: their thinking signatures; a Responses client passes output items back as they came.
NO_REASONING_BACK: Final = frozenset({"chat", "images"})


def _include(req: CanonicalRequest) -> list[str]:
    if req.origin in NO_REASONING_BACK:
        return list(req.include) if req.include else []
    if not req.include:
        return [ENCRYPTED_REASONING]
    return [ENCRYPTED_REASONING, *(i for i in req.include if i != ENCRYPTED_REASONING)]


def user_agent(originator: str, version: str) -> str:
    """``<originator>/<version> (<OS> <release>; <arch>) gptgate`` like the official client."""
    return f"{originator}/{version} ({platform.system()} {platform.release()}; {platform.machine()}) gptgate"


class AccountHeaders:
    """The headers every turn of an account sends (its auth, the official client's identity),
    made once per account and token instead of once per request: the ``Bearer`` string (a JWT
    of a kilobyte or two) is then one object that every open stream of the account shares
    (aiohttp keeps a request's headers for as long as its answer streams)."""

    __slots__ = ("_agent", "_by_account", "_originator", "_version")

    #: more distinct account ids than this (accounts removed and added over a long run): start over
    LIMIT: Final = 4096

    def __init__(self, *, originator: str, version: str, agent: str) -> None:
        self._originator = originator
        self._version = version
        self._agent = agent
        self._by_account: dict[str, tuple[str, str | None, dict[str, str]]] = {}

    def of(self, account: Account) -> dict[str, str]:
        """The account's headers (shared: copy before adding to them)."""
        entry = self._by_account.get(account.id)
        if entry is None or entry[0] != account.access_token or entry[1] != account.account_id:
            headers = {
                "authorization": "Bearer " + account.access_token,
                "content-type": "application/json",
                "accept": "text/event-stream",
                "originator": self._originator,
                "user-agent": self._agent,
                "version": self._version,
            }
            if account.account_id:
                headers["chatgpt-account-id"] = account.account_id
            if len(self._by_account) >= self.LIMIT:
                self._by_account.clear()
            entry = self._by_account[account.id] = (account.access_token, account.account_id, headers)
        return entry[2]


def build_headers(req: CanonicalRequest, account: dict[str, str]) -> dict[str, str]:
    """A turn's headers: the account's (``AccountHeaders.of``), then the conversation key and
    the client's forwarded headers."""
    headers = account.copy()
    if req.prompt_cache_key:
        headers["session_id"] = req.prompt_cache_key
    if req.forward_headers:
        headers.update(req.forward_headers)
    return headers
