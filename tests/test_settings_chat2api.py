"""chat2api's environment variables are read as gptgate settings; a chat2api compose file serves."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import orjson
import pytest

from gptgate.settings import Settings
from gptgate.settings_chat2api import ALIASES, chat2api_values
from gptgate.simulator.server import RunningSimulator
from gptgate.simulator.tokens import make_access_token

ROOT = Path(__file__).resolve().parents[1]
CHAT2API = {
    "API_PREFIX": "my-secret-prefix",
    "AUTHORIZATION": "sk-first, sk-second,",
    "CHATGPT_BASE_URL": "http://127.0.0.1:1,http://127.0.0.1:2",
    "PROXY_URL": "http://127.0.0.1:3128,socks5://127.0.0.1:1080",
    "EXPORT_PROXY_URL": "http://127.0.0.1:8118",
    "HISTORY_DISABLED": "false",
    "RETRY_TIMES": "5",
    "CONVERSATION_ONLY": "true",
    "ENABLE_LIMIT": "true",
    "UPLOAD_BY_URL": "false",
    "SCHEDULED_REFRESH": "false",
    "RANDOM_TOKEN": "true",
    "AUTH_KEY": "gateway-auth-key",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in [*ALIASES, *(k for k in os.environ if k.startswith("GPTGATE_"))]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_chat2api_variable_sets_its_setting(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in CHAT2API.items():
        clean_env.setenv(name, value)
    settings = Settings()
    assert settings.api_prefix == "my-secret-prefix"
    assert settings.key_values() == ["sk-first", "sk-second"]
    assert settings.chatgpt_base_urls == ["http://127.0.0.1:1", "http://127.0.0.1:2"]
    assert settings.proxies == ["http://127.0.0.1:3128", "socks5://127.0.0.1:1080"]
    assert settings.chatgpt_history is True  # HISTORY_DISABLED=false
    assert settings.retry_times == 5
    assert settings.chatgpt_sentinel is False  # CONVERSATION_ONLY=true: the gateway supplies tokens
    assert settings.pool_strategy == "random"
    assert settings.chatgpt_auth_key is not None
    assert settings.chatgpt_auth_key.get_secret_value() == "gateway-auth-key"
    if "fetch_proxy" in Settings.model_fields:  # the files' settings
        assert settings.model_dump()["fetch_proxy"] == "http://127.0.0.1:8118"


def test_chat2api_spellings_of_true_and_false(clean_env: pytest.MonkeyPatch) -> None:
    fields = Settings.model_fields
    for word in ("true", "True", "1", "t", "Y", "yes"):
        assert chat2api_values({"HISTORY_DISABLED": word, "RANDOM_TOKEN": word}, fields) == {
            "chatgpt_history": False,
            "pool_strategy": "random",
        }
    for word in ("false", "0", "no", ""):
        assert chat2api_values({"CONVERSATION_ONLY": word, "RANDOM_TOKEN": word}, fields) == {
            "chatgpt_sentinel": True,
            "pool_strategy": "round_robin",
        }
    # empty values set nothing; the switches gptgate always has set nothing either
    assert chat2api_values({"AUTHORIZATION": " , ", "API_PREFIX": "", "ENABLE_LIMIT": "false"}, fields) == {}


def test_the_gptgate_name_wins_over_the_chat2api_one(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in CHAT2API.items():
        clean_env.setenv(name, value)
    clean_env.setenv("GPTGATE_API_KEYS", '["sk-own"]')
    clean_env.setenv("GPTGATE_RETRY_TIMES", "1")
    clean_env.setenv("GPTGATE_CHATGPT_SENTINEL", "true")
    clean_env.setenv("GPTGATE_POOL_STRATEGY", "least_busy")
    settings = Settings(api_prefix="from-a-flag")
    assert settings.key_values() == ["sk-own"]
    assert (settings.retry_times, settings.chatgpt_sentinel, settings.pool_strategy) == (
        1,
        True,
        "least_busy",
    )
    assert settings.api_prefix == "from-a-flag"
    assert settings.chatgpt_base_urls == ["http://127.0.0.1:1", "http://127.0.0.1:2"]  # still chat2api's


def test_a_bad_chat2api_value_is_refused_by_its_setting(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("RETRY_TIMES", "many")
    with pytest.raises(ValueError, match="retry_times"):
        Settings()


def start(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gptgate", "serve", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    assert proc.stderr is not None
    deadline, seen = time.monotonic() + 30, []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if m := re.search(r"listening on (http://\S+)", line):
            return proc, m.group(1)
        if proc.poll() is not None:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("gptgate serve did not start: " + "".join(seen))


async def test_a_chat2api_environment_starts_gptgate_and_serves(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    keep = {k: v for k, v in os.environ.items() if k not in ALIASES and not k.startswith("GPTGATE_")}
    chat2api = {
        "API_PREFIX": "my-secret-prefix",
        "AUTHORIZATION": "sk-first,sk-second",
        "CHATGPT_BASE_URL": simulator.base_url,
        "HISTORY_DISABLED": "true",
        "RETRY_TIMES": "1",
        "CONVERSATION_ONLY": "true",
        "ENABLE_LIMIT": "true",
        "UPLOAD_BY_URL": "false",
        "SCHEDULED_REFRESH": "false",
        "RANDOM_TOKEN": "true",
        "AUTH_KEY": "gateway-auth-key",
    }
    account = {  # where chat2api keeps its tokens in a file, gptgate takes one account here
        "GPTGATE_ACCESS_TOKEN": make_access_token("acct-chat2api-0001", plan="plus"),
        "GPTGATE_CODEX_BASE_URL": simulator.base_url + "/backend-api/codex",
        "GPTGATE_ACCOUNT_STORE": "false",
        "GPTGATE_FETCH_UPSTREAM_MODELS": "false",
        "GPTGATE_USAGE_POLL_SECONDS": "0",
        "GPTGATE_DATA_DIR": str(tmp_path),
    }
    proc, base = await asyncio.to_thread(start, {**keep, **chat2api, **account})
    body = orjson.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    path = "/my-secret-prefix/v1/chat/completions"
    try:
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": "Bearer sk-second", "Content-Type": "application/json"}
            async with http.post(base + path, data=body, headers=headers) as resp:
                status, answer = resp.status, orjson.loads(await resp.read())
            async with http.post(base + path, data=body) as resp:
                keyless = resp.status
            async with http.post(base + "/v1/chat/completions", data=body, headers=headers) as resp:
                unprefixed = resp.status
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        await asyncio.to_thread(proc.wait, 10)
    assert status == 200, answer
    assert answer["choices"][0]["message"]["content"] == "Hello! You said: hi."
    assert (keyless, unprefixed) == (401, 404)
    [turn] = [r for r in simulator.state.requests if r["path"] == "/backend-api/conversation"]
    assert turn["headers"]["authkey"] == "gateway-auth-key"
    assert turn["body"]["history_and_training_disabled"] is True
    assert not any("sentinel" in r["path"] for r in simulator.state.requests)  # CONVERSATION_ONLY
