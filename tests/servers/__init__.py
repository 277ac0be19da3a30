"""Real servers (PostgreSQL, ...) started per test session on free loopback ports; never mocks."""
