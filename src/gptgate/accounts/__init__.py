"""ChatGPT accounts: credentials, quota windows, health, and the pool that picks one."""
