"""Enums both OpenAI doors document (openai-python's ``ReasoningEffort`` and ``service_tier``)."""

from __future__ import annotations

from typing import Final

EFFORTS: Final = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
SERVICE_TIERS: Final = ("auto", "default", "flex", "scale", "priority", "fast")
