"""Settings come from flags, environment and a TOML file, in that order; the CLI refuses open proxies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gptgate.settings import load_settings


def test_precedence_flags_over_env_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gptgate.toml"
    config.write_text(
        'port = 9001\nworkers = 3\ndefault_model = "gpt-5.4"\n[model_aliases]\nmine = "gpt-5.4-high"\n'
    )
    monkeypatch.setenv("GPTGATE_WORKERS", "2")
    monkeypatch.setenv("GPTGATE_API_KEYS", '["sk-a","sk-b"]')
    monkeypatch.delenv("GPTGATE_CONFIG", raising=False)
    settings = load_settings(config, port=9100, host=None)
    assert settings.port == 9100  # flag
    assert settings.workers == 2  # environment beats the file
    assert settings.default_model == "gpt-5.4"  # file
    assert settings.model_aliases == {"mine": "gpt-5.4-high"}
    assert settings.key_values() == ["sk-a", "sk-b"]
    assert "sk-a" not in repr(settings)  # secrets never printed


def test_unknown_setting_in_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("prot = 1\n")
    monkeypatch.delenv("GPTGATE_CONFIG", raising=False)
    with pytest.raises(ValueError, match="prot"):
        load_settings(config)


def test_refuses_to_listen_off_loopback_without_a_key() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gptgate", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "without an API key" in result.stderr


def test_settings_command_lists_every_setting() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gptgate", "settings"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert "GPTGATE_CODEX_BASE_URL" in result.stdout and "GPTGATE_API_KEYS" in result.stdout


def test_a_config_file_applies_to_its_own_load_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading settings from a file once must not change the settings of everything after it
    (it used to be written to GPTGATE_CONFIG for the rest of the process)."""
    from gptgate.settings import DEFAULT_ALIASES, Settings

    monkeypatch.delenv("GPTGATE_CONFIG", raising=False)
    config = tmp_path / "gptgate.toml"
    config.write_text('[model_aliases]\nmine = "gpt-5.4-high"\n')
    assert load_settings(config).model_aliases == {"mine": "gpt-5.4-high"}
    assert "GPTGATE_CONFIG" not in os.environ
    assert Settings().model_aliases == DEFAULT_ALIASES
