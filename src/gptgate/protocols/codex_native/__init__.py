"""Codex CLI's own routes (signed in with ChatGPT): ``/backend-api/codex/...`` and ``/backend-api/wham/...``."""
