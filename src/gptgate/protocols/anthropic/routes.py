"""``POST /v1/messages`` and ``POST /v1/messages/count_tokens`` (client-apis.md §4)."""

from __future__ import annotations

from aiohttp import web

from gptgate.canonical.tokens import count_request
from gptgate.http import gateway_of, json_response, new_id, read_body
from gptgate.protocols.anthropic.decode import decode
from gptgate.protocols.anthropic.encode import AnthropicStreamEncoder
from gptgate.protocols.anthropic.response import message
from gptgate.protocols.fields import parse_object
from gptgate.protocols.turn import turn_handler
from gptgate.settings import Settings
from gptgate.streaming.stream import StreamEncoder
from gptgate.types import JSONObject


class MessagesTurn:
    def __init__(self, body: JSONObject, request: web.Request, settings: Settings) -> None:
        self._decoded = decode(body, request.headers)
        self.req = self._decoded.req
        shown = self._decoded.thinking == "shown" and settings.reasoning_summary != "none"
        self.default_effort = settings.default_effort
        self.summary = settings.reasoning_summary if shown else None
        self._id, _ = new_id("msg_")
        self._request_id = "req_" + self._id[4:]

    def encoder(self) -> StreamEncoder:
        d = self._decoded
        return AnthropicStreamEncoder(
            message_id=self._id,
            model=self.req.requested_model,
            names=d.names,
            thinking=d.thinking,
            request_id=self._request_id,
        )

    def reply(self, response: JSONObject) -> JSONObject:
        d = self._decoded
        return message(
            response, message_id=self._id, model=self.req.requested_model, names=d.names, thinking=d.thinking
        )

    def headers(self) -> dict[str, str]:
        return {"request-id": self._request_id}


messages = turn_handler(MessagesTurn)


async def count_tokens(request: web.Request) -> web.Response:
    """Counted locally in the upstream's encoding; the model must be one this gateway serves."""
    gw = gateway_of(request)
    decoded = decode(parse_object(await read_body(request)), request.headers, count_only=True)
    gw.catalog.resolve(decoded.req.model)
    return json_response({"input_tokens": count_request(decoded.req)})
