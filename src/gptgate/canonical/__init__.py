"""The hub: one request shape, one event stream, one response shape, all Responses-API shaped."""
