"""Policy applied to every decoded request before dispatch: model names, effort, summaries."""

from __future__ import annotations

from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.models import ModelCatalog


def prepare(
    req: CanonicalRequest,
    catalog: ModelCatalog,
    *,
    default_effort: str | None,
    summary: str | None,
) -> CanonicalRequest:
    """Resolve the model; apply an effort suffix unless the client set an effort itself.

    Translated requests (every door but Responses) also get the configured default effort and a
    reasoning summary, so that thinking can reach clients that show it. A Responses request is
    the client's own and only gets what its model name implied.
    """
    resolved = catalog.resolve(req.model)
    req.model = resolved.model
    reasoning = dict(req.reasoning) if req.reasoning else {}
    if resolved.effort and not reasoning.get("effort"):
        reasoning["effort"] = resolved.effort
    if req.origin != "responses":
        if default_effort and not reasoning.get("effort"):
            reasoning["effort"] = default_effort
        if summary and summary != "none" and "summary" not in reasoning:
            reasoning["summary"] = summary
    req.reasoning = reasoning or req.reasoning
    return req
