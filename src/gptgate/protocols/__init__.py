"""Client protocol spokes: each decodes its wire request to canonical and encodes canonical events."""
