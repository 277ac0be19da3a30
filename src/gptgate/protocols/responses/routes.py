"""``POST /v1/responses``: a pass-through turn (the path is ``protocols/turn.py``)."""

from __future__ import annotations

from aiohttp import web

from gptgate.protocols.responses.decode import decode
from gptgate.protocols.responses.encode import ResponsesStreamEncoder
from gptgate.protocols.turn import turn_handler
from gptgate.settings import Settings
from gptgate.streaming.stream import StreamEncoder
from gptgate.types import JSONObject


class ResponsesTurn:
    """The client's own request: no effort or summary is added, the reply is the response."""

    default_effort = None
    summary = None

    def __init__(self, body: JSONObject, request: web.Request, settings: Settings) -> None:
        self.req = decode(body, request.headers)

    def encoder(self) -> StreamEncoder:
        return ResponsesStreamEncoder()

    def reply(self, response: JSONObject) -> JSONObject:
        return response

    def headers(self) -> dict[str, str]:
        return {}


responses = turn_handler(ResponsesTurn)
