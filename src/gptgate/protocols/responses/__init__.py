"""OpenAI Responses (``POST /v1/responses``): a faithful pass-through to a Responses upstream."""
