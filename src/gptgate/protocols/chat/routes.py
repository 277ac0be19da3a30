"""``POST /v1/chat/completions``: the chat door's turn (the path is ``protocols/turn.py``)."""

from __future__ import annotations

import time

from aiohttp import web

from gptgate.canonical.hosted import GeneratedImage, data_url_link
from gptgate.files.generated import generated_of
from gptgate.http import unique_hex
from gptgate.protocols.chat.decode import decode, include_usage
from gptgate.protocols.chat.encode import ChatStreamEncoder
from gptgate.protocols.chat.response import completion
from gptgate.protocols.turn import turn_handler
from gptgate.settings import Settings
from gptgate.streaming.stream import StreamEncoder
from gptgate.types import JSONObject


class ChatTurn:
    def __init__(self, body: JSONObject, request: web.Request, settings: Settings) -> None:
        self.req = decode(body)
        self._include_usage = include_usage(body)
        self._reasoning = settings.reasoning_output
        self.default_effort = settings.default_effort
        self.summary = None if settings.reasoning_output == "none" else settings.reasoning_summary
        self._id, self._created = "chatcmpl-" + unique_hex(), int(time.time())  # new_id, inlined
        self._request = request

    def _link(self, image: GeneratedImage) -> str:
        """Generated images as gateway links (the bytes kept by the gateway), else data URLs; the
        store is looked up only when an image comes (most turns have none)."""
        store = generated_of(self._request)
        return store.link(image) if store is not None else data_url_link(image)

    def encoder(self) -> StreamEncoder:
        return ChatStreamEncoder(
            chunk_id=self._id,
            created=self._created,
            model=self.req.requested_model,
            include_usage=self._include_usage,
            reasoning=self._reasoning,
            link=self._link,
        )

    def reply(self, response: JSONObject) -> JSONObject:
        return completion(
            response,
            completion_id=self._id,
            created=self._created,
            model=self.req.requested_model,
            reasoning=self._reasoning,
            link=self._link,
        )

    def headers(self) -> dict[str, str]:
        return {}


chat_completions = turn_handler(ChatTurn)
