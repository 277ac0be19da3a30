"""Gemini generateContent (``/v1beta/models/{model}:generateContent`` and friends)."""
