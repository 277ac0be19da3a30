"""The chat page at ``/chat``: key holders chat through the gateway\x27s own OpenAI door."""
