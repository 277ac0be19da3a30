"""The model catalogue and name resolution: aliases, effort suffixes, upstream-reported models."""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass, field
from typing import Final

from gptgate import errors
from gptgate.types import JSONObject

EFFORTS: Final = ("none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra")
DEFAULT_TARGET: Final = "default"


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


class ModelCatalog:
    """What models exist and what a client's model name means."""

    def __init__(self, models: list[str], aliases: dict[str, str], default_model: str) -> None:
        self._models: dict[str, ModelInfo] = {m: ModelInfo(m) for m in models}
        self._aliases = {k: v for k, v in aliases.items() if "*" not in k and "?" not in k}
        #: Glob aliases (``claude-opus-*``), most specific (longest) pattern first.
        self._patterns = sorted(
            ((k, v) for k, v in aliases.items() if k not in self._aliases), key=lambda kv: -len(kv[0])
        )
        self._default = default_model
        if default_model not in self._models:
            self._models[default_model] = ModelInfo(default_model)

    def add_upstream(self, infos: list[JSONObject], upstream: str | None = None) -> None:
        """Merge an upstream's ``/models`` answer (``ModelInfo`` objects with ``slug``)."""
        for m in infos:
            levels = tuple(
                str(lv.get("effort"))
                for lv in m.get("supported_reasoning_levels") or ()
                if isinstance(lv, dict)
            )
            self._models[m["slug"]] = ModelInfo(
                id=m["slug"],
                efforts=levels or ("low", "medium", "high"),
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

    def info(self, model: str) -> ModelInfo | None:
        return self._models.get(model)

    def resolve(self, name: str) -> Resolved:
        """``gpt-5.5`` → itself; ``gpt-5.5-high`` → effort high; ``gpt-4o`` → its alias target."""
        resolved = self._resolve(name.removeprefix("models/").strip(), depth=0)
        if resolved is None:
            raise errors.ModelNotFound(
                f"The model '{name}' does not exist or is not served by this gateway (see GET /v1/models).",
                param="model",
            )
        return resolved

    def _resolve(self, name: str, depth: int) -> Resolved | None:
        if depth > 4 or not name:
            return None
        if name in self._models:
            return Resolved(name, None, self._models[name].upstream)
        if name == DEFAULT_TARGET:
            return self._resolve(self._default, depth + 1)
        if name in self._aliases:
            return self._resolve(self._aliases[name], depth + 1)
        base, _, suffix = name.rpartition("-")
        if suffix in EFFORTS and base:
            inner = self._resolve(base, depth + 1)
            if inner is not None:
                return Resolved(inner.model, suffix, inner.upstream)
        for pattern, target in self._patterns:
            if fnmatch.fnmatchcase(name, pattern):
                return self._resolve(target, depth + 1)
        return None
