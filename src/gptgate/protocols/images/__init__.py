"""OpenAI Images API (``POST /v1/images/generations``, ``/v1/images/edits``)."""
