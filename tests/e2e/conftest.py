"""One ``gptgate serve --demo`` subprocess (real sockets) shared by the SDK tests of a session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.processes import serve_process


@pytest.fixture(scope="session")
def demo() -> Iterator[str]:
    with serve_process("--demo", "--port", "0") as base:
        yield base
