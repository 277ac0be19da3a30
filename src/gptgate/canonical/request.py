"""The canonical request every front door decodes into and every upstream encodes from."""

from __future__ import annotations

from dataclasses import dataclass, field

from gptgate.types import ClientProtocol, JSONObject


@dataclass(slots=True)
class CanonicalRequest:
    """A model turn, shaped like a Responses-API request.

    ``input`` holds Responses input items (``message``, ``function_call``,
    ``function_call_output``, ``reasoning``, ...). ``extras`` keeps every field the front door
    did not interpret, tagged by ``origin``: an upstream that speaks the same protocol forwards
    them verbatim; any other upstream ignores them (they were never meant for it).

    The doors' hot paths make one with ``model, input, origin`` by position and set the rest as
    attributes: a keyword is matched against the names of all the fields in turn, and with this
    many fields a call with keywords costs more than the stores.
    """

    model: str
    input: list[JSONObject]
    origin: ClientProtocol
    stream: bool = True
    instructions: str | None = None
    tools: list[JSONObject] = field(default_factory=list)
    tool_choice: str | JSONObject | None = None
    parallel_tool_calls: bool | None = None
    reasoning: JSONObject | None = None
    text: JSONObject | None = None
    include: list[str] | None = None
    prompt_cache_key: str | None = None
    service_tier: str | None = None
    extras: JSONObject = field(default_factory=dict)
    #: Client headers worth forwarding to an upstream of the same family (session ids, ...).
    forward_headers: dict[str, str] = field(default_factory=dict)
    #: The model name the client asked for (before aliasing), echoed back to it.
    requested_model: str = ""
    #: Request fields accepted but not honoured by the upstream (reported to the client).
    ignored: list[str] = field(default_factory=list)

    @property
    def session_key(self) -> str | None:
        """What keeps a conversation on one account and one upstream cache shard."""
        return self.prompt_cache_key
