"""Client API keys: stored hashed, each with its own limits (see ``model.py``)."""
