"""The documented Messages parameters, typed as anthropic-python's ``MessageCreateParams``
types them (ranges as the API enforces them)."""

from __future__ import annotations

from typing import Final

from gptgate.protocols import checks as c

SPEC: Final[c.Spec] = {
    "temperature": c.ranged(0, 1),
    "top_p": c.ranged(0, 1),
    "top_k": c.at_least(0),
    "stop_sequences": c.list_of(c.STR),
    "stream": c.BOOL,
    "metadata": c.nested({"user_id": c.STR}),
    "service_tier": c.enum("auto", "standard_only"),
    "inference_geo": c.STR,
}
