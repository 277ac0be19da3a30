"""Settings of the Codex-backend simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DEFAULT_MODELS: tuple[str, ...] = (
    "gpt-5.5",
    "gpt-5.4",
    "gpt-5.4-mini",
    "gpt-5.3-codex",
    "gpt-5.2",
    "gpt-5.1-codex",
    "gpt-5.1",
    "gpt-6.1-sol",
    "codex-auto-review",
)


@dataclass
class SimulatorConfig:
    """How the simulator answers.

    ``burst`` writes a whole reply body at once (the benchmark's upstream); ``paced`` writes one
    SSE record per write and sleeps ``interval_ms`` between records (a live model's rhythm).
    """

    mode: Literal["burst", "paced"] = "burst"
    interval_ms: float = 0.0
    text_deltas: int = 8
    first_byte_delay_ms: float = 0.0
    require_auth: bool = True
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    quota_requests_per_window: int | None = None
    seed: int = 0
    record_requests: bool = True
