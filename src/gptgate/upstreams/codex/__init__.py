"""The Codex backend (``/backend-api/codex/responses``), what Codex CLI uses with a ChatGPT login."""
