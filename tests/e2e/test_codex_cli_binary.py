"""The real Codex CLI against ``gptgate serve --demo`` over HTTPS, in both login modes.

Runs only where the CLI is installed: ``GPTGATE_CODEX_BIN``, else ``codex`` on ``PATH``. The
npm package ``@openai/codex`` carries no install script: its native binary is a platform
package (``@openai/codex-linux-x64`` …) that npm fetches from the registry as an optional
dependency, so ``npm install -g @openai/codex`` is all it takes; CI does not install it.

- ChatGPT login: ``chatgpt_base_url``/``openai_base_url`` at the demo's ``/backend-api`` over
  HTTPS (a throwaway CA in ``SSL_CERT_FILE``), a client key in ``auth.json`` as the token;
- API key: a ``model_providers`` entry at ``/v1`` with ``wire_api = "responses"``.
Each ``codex exec`` must finish its turn(s) and exit 0.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.processes import serve_process
from tests.protocols.codex_native.served import make_cert

KEY = "gg-codex-binary-test"
CODEX = os.environ.get("GPTGATE_CODEX_BIN") or shutil.which("codex")
pytestmark = pytest.mark.skipif(
    CODEX is None,
    reason="Codex CLI not installed (npm install -g @openai/codex, or set GPTGATE_CODEX_BIN)",
)


@pytest.fixture(scope="module")
def tls_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``gptgate serve --demo`` over HTTPS: (its base URL, the CA file that signed it)."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key, ca = make_cert(directory)
    args = ("--demo", "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key))
    with serve_process(*args, env={"GPTGATE_API_KEYS": orjson.dumps([KEY]).decode()}) as base:
        assert base.startswith("https://")
        yield base, ca


def _unsigned_jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.bm9uZQ"


def _run(home: Path, work: Path, ca: Path, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert CODEX is not None
    env = {**os.environ, "CODEX_HOME": str(home), "SSL_CERT_FILE": str(ca), **extra_env}
    return subprocess.run(
        [CODEX, "exec", "--skip-git-repo-check", "Say hi"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


def test_codex_signed_in_with_chatgpt(tls_demo: tuple[str, Path], tmp_path: Path) -> None:
    base, ca = tls_demo
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / "config.toml").write_text(
        'model_provider = "openai"\nforced_login_method = "chatgpt"\n'
        f'chatgpt_base_url = "{base}/backend-api/"\nopenai_base_url = "{base}/backend-api/codex"\n'
    )
    claims: dict[str, object] = {
        "email": "gptgate@localhost",
        "https://api.openai.com/auth": {"chatgpt_account_id": "gptgate", "chatgpt_plan_type": "pro"},
    }
    auth = {
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": None,
        "last_refresh": "2099-01-01T00:00:00Z",
        "tokens": {
            "access_token": KEY,
            "refresh_token": "none",
            "account_id": "gptgate",
            "id_token": _unsigned_jwt(claims),
        },
    }
    (home / "auth.json").write_bytes(orjson.dumps(auth))
    done = _run(home, work, ca, {})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "tokens used" in done.stdout + done.stderr


def test_codex_with_an_api_key(tls_demo: tuple[str, Path], tmp_path: Path) -> None:
    base, ca = tls_demo
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "gptgate"\n\n[model_providers.gptgate]\n'
        f'name = "gptgate"\nbase_url = "{base}/v1"\nwire_api = "responses"\nenv_key = "GPTGATE_API_KEY"\n'
    )
    done = _run(home, work, ca, {"GPTGATE_API_KEY": KEY})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "tokens used" in done.stdout + done.stderr
