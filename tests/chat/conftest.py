"""A ``gptgate serve`` process with an account store, one pool account and two stored client keys
(alice and bob), against a simulator in its own process (the browser test is synchronous)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gptgate.accounts import ops as account_ops
from gptgate.keys import ops
from gptgate.keys.model import KeyLimits
from gptgate.simulator.tokens import make_access_token
from gptgate.storage import TokenCipher, key_from_text, open_store
from tests.admin.conftest import Served, serve
from tests.browser import simulator_process

#: the secret ``tests.admin.conftest.serve`` gives the gateway: the store here is opened with it
SECRET = "admin-tests-secret-key-0123456789"
STATIC_KEY = "sk-static-key-of-the-chat-tests"


@dataclass
class ChatGateway:
    served: Served
    alice: str
    bob: str

    @property
    def base_url(self) -> str:
        return self.served.base_url


@pytest.fixture
def simulator_url() -> Iterator[str]:
    with simulator_process() as url:
        yield url


def seed(tmp: Path) -> tuple[str, str]:
    """The store ``serve`` will open (its data dir's SQLite file): an account and two keys."""
    store = open_store(f"sqlite:///{tmp / 'gptgate.db'}", TokenCipher(key_from_text(SECRET)))
    try:
        store.migrate()
        token = make_access_token("acct-chat", plan="plus")
        account_ops.add(store, account_ops.Entry(access_token=token, name="seat"))
        alice = ops.create(store, "alice", KeyLimits())[1]
        bob = ops.create(store, "bob", KeyLimits())[1]
    finally:
        store.close()
    return alice, bob


@pytest.fixture
def chat_gateway(simulator_url: str, tmp_path: Path) -> Iterator[ChatGateway]:
    alice, bob = seed(tmp_path)
    served = serve(simulator_url, tmp_path, api_keys=f'["{STATIC_KEY}"]', reload_seconds="0.5")
    try:
        yield ChatGateway(served, alice, bob)
    finally:
        served.stop()
