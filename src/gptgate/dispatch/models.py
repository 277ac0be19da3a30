"""The model catalogue and name resolution: aliases, effort suffixes, upstream-reported models."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from gptgate import errors
from gptgate.types import JSONObject

EFFORTS: Final = ("none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra")
DEFAULT_TARGET: Final = "default"
#: names whose resolution is remembered (clients use a handful; a client naming ever new models
#: gets them resolved afresh once this many are known, never a growing table)
MAX_RESOLVED: Final = 512


@dataclass(slots=True)
class ModelInfo:
    id: str
    efforts: tuple[str, ...] = ("low", "medium", "high")
    default_effort: str | None = None
    display_name: str | None = None
    context_window: int | None = None
    source: str = "config"
    created: int = field(default_factory=lambda: int(time.time()))
    #: the upstream that serves it (None: the gateway's default upstream)
    upstream: str | None = None


@dataclass(slots=True, frozen=True)
class Resolved:
    model: str
    effort: str | None
    #: the upstream the model is served from (None: the default upstream)
    upstream: str | None = None


Claim = tuple[str, Callable[[str], bool]]


class ModelCatalog:
    """What models exist, which upstream serves each, and what a client's model name means.

    ``upstream_models`` adds each non-default upstream's listed names (the web upstream's
    ``gpt-4o``, ``o3``...; they win over an alias of the same name: with that upstream on, the
    name means its own model). ``claims`` are asked, in order, about a name nothing else resolves
    (a GPT ``gpt-4o-gizmo-g-…``, a slug an account listed).
    """

    def __init__(
        self,
        models: list[str],
        aliases: dict[str, str],
        default_model: str,
        *,
        upstream_models: dict[str, list[str]] | None = None,
        claims: Sequence[Claim] = (),
        default_upstream: str = "codex",
    ) -> None:
        #: the upstream of every model that names none (the settings' catalogue)
        self.default_upstream = default_upstream
        self._models: dict[str, ModelInfo] = {m: ModelInfo(m) for m in models}
        #: each upstream-reported model's own entry as the upstream sent it (Codex's ModelInfo)
        self._reported: dict[str, JSONObject] = {}
        for upstream, names in (upstream_models or {}).items():
            for name in names:
                self._models.setdefault(name, ModelInfo(name, efforts=(), upstream=upstream))
        self._claims = tuple(claims)
        #: the upstreams this gateway serves from
        self.upstreams = frozenset({default_upstream, *(upstream_models or {}), *(u for u, _ in claims)})
        self._aliases = {k: v for k, v in aliases.items() if "*" not in k and "?" not in k}
        #: Glob aliases (``claude-opus-*``), most specific (longest) pattern first.
        self._patterns = sorted(
            ((k, v) for k, v in aliases.items() if k not in self._aliases), key=lambda kv: -len(kv[0])
        )
        self._default = default_model
        if default_model not in self._models:
            self._models[default_model] = ModelInfo(default_model)
        #: (name, pinned upstream) -> what it resolved to, until the catalogue changes; a name a
        #: claim was asked about is not kept (a claim's answer changes with the accounts)
        self._resolved: dict[tuple[str, str | None], Resolved] = {}
        self._claim_asked = False

    def add_upstream(self, infos: list[JSONObject], upstream: str | None = None) -> None:
        """Merge an upstream's ``/models`` answer (``ModelInfo`` objects with ``slug``);
        ``upstream`` None is the default upstream. A name another upstream serves stays with it."""
        self._resolved.clear()  # names resolve afresh against the new catalogue
        for m in infos:
            known = self._models.get(m["slug"])
            if known is not None and known.upstream != upstream:
                continue
            levels = tuple(
                str(lv.get("effort"))
                for lv in m.get("supported_reasoning_levels") or ()
                if isinstance(lv, dict)
            )
            self._reported[m["slug"]] = m
            self._models[m["slug"]] = ModelInfo(
                id=m["slug"],
                efforts=levels or (("low", "medium", "high") if upstream is None else ()),
                default_effort=m.get("default_reasoning_level"),
                display_name=m.get("display_name"),
                context_window=m.get("context_window"),
                source="upstream",
                upstream=upstream,
            )

    def models(self) -> list[ModelInfo]:
        return list(self._models.values())

    def aliases(self) -> dict[str, str]:
        """The exact-name aliases (glob patterns are not names a client can list)."""
        return dict(self._aliases)

    def reported(self, model: str) -> JSONObject | None:
        """The upstream's own entry for ``model`` (its ``/models`` answer), None when unreported."""
        return self._reported.get(model)

    def info(self, model: str) -> ModelInfo | None:
        return self._models.get(model)

    def resolve(self, name: str, upstream: str | None = None) -> Resolved:
        """``gpt-5.5`` → itself; ``gpt-5.5-high`` → effort high; ``gpt-4o`` → its alias target.

        With ``upstream`` (a path that pins one), only what that upstream serves counts: under
        ``/codex/v1`` the web upstream's ``gpt-4o`` is not a candidate and the alias applies.
        """
        resolved = self._resolved.get((name, upstream))
        if resolved is not None:
            return resolved
        if upstream is not None and upstream not in self.upstreams:
            raise errors.NotFoundError(
                f"The {upstream} upstream is not configured on this gateway.", code="upstream_not_configured"
            )
        self._claim_asked = False
        resolved = self._resolve(name.removeprefix("models/").strip(), 0, upstream)
        if resolved is None:
            where = f" by the {upstream} upstream" if upstream else " by this gateway"
            raise errors.ModelNotFound(
                f"The model '{name}' does not exist or is not served{where} (see GET /v1/models).",
                param="model",
            )
        if not self._claim_asked and len(self._resolved) < MAX_RESOLVED:
            self._resolved[name, upstream] = resolved
        return resolved

    def _serves(self, info: ModelInfo, only: str | None) -> bool:
        return only is None or (info.upstream or self.default_upstream) == only

    def _resolve(self, name: str, depth: int, only: str | None) -> Resolved | None:
        if depth > 4 or not name:
            return None
        info = self._models.get(name)
        if info is not None and self._serves(info, only):
            return Resolved(name, None, info.upstream)
        if name == DEFAULT_TARGET:
            return self._resolve(self._default, depth + 1, only)
        if name in self._aliases:
            return self._resolve(self._aliases[name], depth + 1, only)
        base, _, suffix = name.rpartition("-")
        if suffix in EFFORTS and base:
            inner = self._resolve(base, depth + 1, only)
            if inner is not None:
                return Resolved(inner.model, suffix, inner.upstream)
        for upstream, claim in self._claims:
            self._claim_asked = True
            if (only is None or only == upstream) and claim(name):
                return Resolved(name, None, upstream)
        for pattern, target in self._patterns:
            if fnmatch.fnmatchcase(name, pattern):
                return self._resolve(target, depth + 1, only)
        return None
