"""Server-sent events in and out, and the one place a stream is written to a client."""
