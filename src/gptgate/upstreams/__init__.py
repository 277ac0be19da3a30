"""Upstream spokes: each converts canonical requests to its wire and its stream to canonical events."""
