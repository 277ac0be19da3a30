"""The ChatGPT web conversation backend (``/backend-api/conversation``), through an operator's gateway."""
