"""``gptgate serve --demo``: an embedded simulator, a demo account, and snippets that work."""

from __future__ import annotations

import multiprocessing
import secrets
import socket
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from gptgate.accounts.model import Account
from gptgate.settings import Settings
from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.server import run_simulator
from gptgate.simulator.tokens import make_access_token

DEMO_ACCOUNT_ID = "00000000-demo-4000-8000-000000000001"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError("the demo simulator did not start")


def start_simulator_process() -> tuple[multiprocessing.process.BaseProcess, str]:
    """The simulator in its own process (it must not share the gateway's CPU or loop)."""
    port = _free_port()
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=run_simulator, args=(SimulatorConfig(), "127.0.0.1", port), daemon=True)
    proc.start()
    _wait_listening(port)
    return proc, f"http://127.0.0.1:{port}"


def demo_settings(settings: Settings, simulator_url: str) -> tuple[Settings, list[Account]]:
    """Both upstreams on the simulator, and a store of the demo's own in a temporary directory
    (keys, usage, the console and chat page all work; nothing is left in the operator's store)."""
    data = Path(tempfile.mkdtemp(prefix="gptgate-demo-"))
    settings = settings.model_copy(
        update={
            "codex_base_url": simulator_url + "/backend-api/codex",
            "chatgpt_base_urls": [simulator_url],
            "oauth_token_url": simulator_url + "/oauth/token",
            "session_base_url": simulator_url,
            "account_store": True,
            "data_dir": data,
            "database_url": SecretStr(f"sqlite:///{data / 'demo.db'}"),
            "secret_key": SecretStr(secrets.token_urlsafe(32)),
            "secret_key_file": None,
        }
    )
    token = make_access_token(DEMO_ACCOUNT_ID, plan="plus", email="demo@gptgate.local")
    return settings, [Account.from_tokens(token, name="demo")]


def snippets(base: str, key: str, model: str) -> str:
    return f"""
gptgate demo: the gateway is on {base}, serving a simulated ChatGPT account.

curl:
  curl {base}/v1/chat/completions -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\
    -d '{{"model": "{model}", "messages": [{{"role": "user", "content": "Hello!"}}], "stream": true}}'

OpenAI Python SDK:
  from openai import OpenAI
  client = OpenAI(base_url="{base}/v1", api_key="{key}")
  reply = client.chat.completions.create(model="{model}", messages=[{{"role": "user", "content": "Hello!"}}])
  print(reply.choices[0].message.content)

The ChatGPT web upstream (simulated too): a web model, a GPT, or the /chatgpt/v1 prefix:
  curl {base}/chatgpt/v1/chat/completions -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \
    -d '{{"model": "gpt-4o", "messages": [{{"role": "user", "content": "Hello!"}}]}}'

Codex CLI (~/.codex/config.toml), then `GPTGATE_API_KEY={key} codex`:
  model = "{model}"
  model_provider = "gptgate"
  [model_providers.gptgate]
  name = "gptgate"
  base_url = "{base}/v1"
  wire_api = "responses"
  env_key = "GPTGATE_API_KEY"
"""
