"""Policy applied to every decoded request before dispatch: model names, effort, summaries."""

from __future__ import annotations

from gptgate.canonical.request import CanonicalRequest
from gptgate.dispatch.context import CallContext
from gptgate.dispatch.models import EFFORTS, ModelCatalog


def prepare(
    req: CanonicalRequest,
    catalog: ModelCatalog,
    *,
    default_effort: str | None,
    summary: str | None,
    call: CallContext | None = None,
) -> CanonicalRequest:
    """Resolve the model; apply an effort suffix unless the client set an effort itself. The
    model's upstream becomes the call's, unless its path pinned one (``/codex/v1/...``).

    Translated requests (every door but Responses) also get the configured default effort and a
    reasoning summary, so that thinking can reach clients that show it. A Responses request is
    the client's own and only gets what its model name implied.
    """
    pinned = call.upstream if call is not None else None
    resolved = catalog.resolve(req.model, pinned)
    req.model = resolved.model
    if call is not None and pinned is None:
        call.upstream = resolved.upstream or catalog.default_upstream  # type: ignore[assignment]
    if (
        not req.reasoning
        and not resolved.effort
        and (req.origin == "responses" or (not default_effort and (not summary or summary == "none")))
    ):
        return req  # the usual turn: no effort asked for and none to add
    reasoning = dict(req.reasoning) if req.reasoning else {}
    if resolved.effort and not reasoning.get("effort"):
        reasoning["effort"] = resolved.effort
    if req.origin != "responses":
        if default_effort and not reasoning.get("effort"):
            reasoning["effort"] = default_effort
        if summary and summary != "none" and "summary" not in reasoning:
            reasoning["summary"] = summary
    effort = reasoning.get("effort")
    if effort:
        reasoning["effort"] = supported_effort(catalog, req.model, effort)
    req.reasoning = reasoning or req.reasoning
    return req


def supported_effort(catalog: ModelCatalog, model: str, effort: str) -> str:
    """The nearest effort the model supports, when the upstream told us which it does.

    A translated request may ask for ``none`` (thinking disabled) or ``xhigh`` (a large budget)
    on a model that lacks them; the upstream would answer 400. Catalogue-only models are left
    alone: their levels are a guess.
    """
    info = catalog.info(model)
    if info is None or info.source != "upstream" or effort in info.efforts or effort not in EFFORTS:
        return effort
    rank = EFFORTS.index(effort)
    known = [e for e in info.efforts if e in EFFORTS]
    if not known:
        return effort
    return min(known, key=lambda e: (abs(EFFORTS.index(e) - rank), -EFFORTS.index(e)))
