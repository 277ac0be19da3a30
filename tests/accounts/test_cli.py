"""``gptgate accounts`` on a temporary SQLite store: add, import, list, show, disable, enable, remove."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from gptgate.cli import main
from gptgate.settings import Settings
from gptgate.simulator.tokens import make_access_token, make_id_token
from gptgate.storage import open_from_settings

NOW = int(time.time())
ALICE = make_access_token("ws-alice", plan="pro", email="alice@example.com", exp=NOW + 3 * 86400 + 600)
BOB = make_access_token("ws-bob", plan="plus", email="bob@example.com")
CAROL = make_access_token("ws-team", plan="team", email="carol@example.com", exp=NOW - 7200)
Run = Callable[..., Result]
SECRETS = ("rt-alice-secret", "rt-bob-secret", "st-secret")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def run(data_dir: Path) -> Run:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        result = runner.invoke(
            main, ["accounts", "--data-dir", str(data_dir), *args], input=input, catch_exceptions=False
        )
        for secret in (*SECRETS, ALICE, BOB, CAROL):
            assert secret not in result.output, f"a token leaked from {args}"
        return result

    return invoke


def test_add_then_list_and_show(run: Run, data_dir: Path) -> None:
    r = run("add", "--access-token", ALICE, "--refresh-token", "rt-alice-secret")
    assert r.exit_code == 0, r.output
    assert "added alice@example.com (acc_" in r.output
    r = run(
        "add", "--access-token", "-", "--name", "bob", "--proxy", "http://u:pw@proxy:3128", input=BOB + "\n"
    )
    assert r.exit_code == 0, r.output

    listing = run("list")
    assert listing.exit_code == 0
    header, *rows = listing.output.splitlines()
    assert header.split()[:4] == ["NAME", "EMAIL", "PLAN", "STATUS"]
    assert rows[0].split()[:6] == ["alice@example.com", "alice@example.com", "pro", "active", "3d", "0h"]
    assert rows[1].split()[:4] == ["bob", "bob@example.com", "plus", "active"]

    shown = run("show", "alice@example.com")
    assert shown.exit_code == 0
    assert "account id     ws-alice" in shown.output
    assert "refresh token  set (sha256 " in shown.output and "session token  not set" in shown.output
    shown = run("show", "bob")
    assert "http://u:***@proxy:3128" in shown.output and "pw@" not in shown.output

    store = open_from_settings(Settings(data_dir=data_dir))
    try:
        alice = store.get("alice@example.com")
    finally:
        store.close()
    assert alice is not None and alice.refresh_token == "rt-alice-secret"
    assert alice.expires_at == NOW + 3 * 86400 + 600 and alice.plan == "pro"


def test_add_refuses_duplicates_and_empty(run: Run) -> None:
    assert run("add", "--access-token", ALICE).exit_code == 0
    again = run("add", "--access-token", ALICE, "--name", "other")
    assert again.exit_code == 1 and "already stored as 'alice@example.com'" in again.output
    taken = run("add", "--access-token", BOB, "--name", "alice@example.com")
    assert taken.exit_code == 1 and "an account named 'alice@example.com' already exists" in taken.output
    assert "Traceback" not in taken.output
    empty = run("add", "--name", "x")
    assert empty.exit_code == 2 and "no access, refresh or session token" in empty.output


def test_import_codex_auth_json(run: Run, tmp_path: Path) -> None:
    auth = tmp_path / "auth.json"
    auth.write_bytes(
        orjson.dumps(
            {
                "auth_mode": "chatgpt",
                "OPENAI_API_KEY": None,
                "tokens": {
                    "id_token": make_id_token("ws-team", plan="team", email="carol@example.com"),
                    "access_token": CAROL,
                    "refresh_token": "rt-bob-secret",
                    "account_id": "ws-team",
                },
                "last_refresh": "2026-11-22T18:43:46.123456Z",
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    r = run("import", str(auth))
    assert r.exit_code == 0, r.output
    assert "added 1, skipped 0 (already stored), failed 0" in r.output
    again = run("import", str(auth))
    assert "added 0, skipped 1 (already stored), failed 0" in again.output
    listed = orjson.loads(run("list", "--json").output)
    assert [(a["name"], a["account_id"], a["plan"]) for a in listed] == [
        ("carol@example.com", "ws-team", "team")
    ]
    assert listed[0]["tokens"] == {
        "access_token": True,
        "refresh_token": True,
        "id_token": True,
        "session_token": False,
    }
    assert "expired 2h" in run("list").output


def test_import_bulk_jsonl_with_a_bad_line(run: Run, tmp_path: Path) -> None:
    bulk = tmp_path / "accounts.jsonl"
    lines = [
        orjson.dumps({"access_token": ALICE, "refresh_token": "rt-alice-secret"}).decode(),
        orjson.dumps({"accessToken": BOB, "name": "bob", "proxy": "socks5://127.0.0.1:1080"}).decode(),
        '{"access_token": "broken',
        orjson.dumps({"session_token": "st-secret"}).decode(),
        orjson.dumps({"access_token": ALICE}).decode(),  # same account id and e-mail: skipped
    ]
    bulk.write_text("\n".join(lines) + "\n")
    r = run("import", str(bulk))
    assert r.exit_code == 1
    assert "failed line 3: not valid JSON" in r.output
    assert "added 3, skipped 1 (already stored), failed 1" in r.output
    names = [a["name"] for a in orjson.loads(run("list", "--json").output)]
    assert names == ["alice@example.com", "bob", "account"]


def test_import_tokens_one_per_line_and_json_array(run: Run, tmp_path: Path) -> None:
    text = tmp_path / "tokens.txt"
    text.write_text(f"# exported\n{ALICE}\nrt-bob-secret\n")
    assert "added 2, skipped 0" in run("import", str(text)).output
    array = tmp_path / "accounts.json"
    array.write_bytes(orjson.dumps([{"access_token": BOB}, {"access_token": 5}, ALICE]))
    r = run("import", str(array))
    assert "failed item 2: access_token is not a string" in r.output
    assert "added 1, skipped 1 (already stored), failed 1" in r.output


def test_disable_enable_remove(run: Run) -> None:
    run("add", "--access-token", ALICE, "--name", "alice")
    assert run("disable", "alice", "--reason", "rotating").output == "disabled alice\n"
    assert "disabled (rotating)" in run("show", "alice").output
    assert "disabled" in run("list").output
    assert run("enable", "alice").output == "enabled alice\n"
    assert "status         active\n" in run("show", "alice").output
    declined = run("remove", "alice", input="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert run("remove", "alice", "--yes").output == "removed alice\n"
    missing = run("show", "alice")
    assert missing.exit_code == 1 and "no account named 'alice'" in missing.output
    assert "no accounts" in run("list").output


def test_wrong_key_is_a_clear_error(run: Run, data_dir: Path) -> None:
    run("add", "--access-token", ALICE, "--refresh-token", "rt-alice-secret")
    (data_dir / "secret.key").unlink()
    r = run("list")
    assert r.exit_code == 1
    assert "cannot decrypt stored tokens: wrong secret_key?" in r.output and "Traceback" not in r.output


def test_settings_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'accounts.db'}"
    env = {"GPTGATE_DATABASE_URL": url, "GPTGATE_SECRET_KEY": "a long enough passphrase"}
    r = CliRunner().invoke(main, ["accounts", "add", "--access-token", BOB], env=env)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "elsewhere" / "accounts.db").exists()
    assert "bob@example.com" in CliRunner().invoke(main, ["accounts", "list"], env=env).output


def test_team_workspaces_of_one_email_get_distinct_names(run: Run) -> None:
    for workspace in ("ws-team-1", "ws-team-2"):
        token = make_access_token(workspace, plan="team", email="dana@example.com")
        assert run("add", "--access-token", token).exit_code == 0
    listed = orjson.loads(run("list", "--json").output)
    assert [(a["name"], a["account_id"]) for a in listed] == [
        ("dana@example.com", "ws-team-1"),
        ("dana@example.com-2", "ws-team-2"),
    ]


def test_upstreams_choose_what_an_account_serves(run: Run) -> None:
    run("add", "--access-token", ALICE)
    assert "upstreams      every one" in run("show", "alice@example.com").output
    result = run("upstreams", "alice@example.com", "chatgpt_web")
    assert result.output == "alice@example.com serves chatgpt_web\n"
    assert "upstreams      chatgpt_web" in run("show", "alice@example.com").output
    assert (
        run("upstreams", "alice@example.com", "--all").output == "alice@example.com serves every upstream\n"
    )
    bad = run("upstreams", "alice@example.com", "bing")
    assert bad.exit_code == 2 and "unknown upstream bing (one of codex, chatgpt_web)" in bad.output


def test_clear_removes_every_account(run: Run) -> None:
    run("add", "--access-token", ALICE)
    run("add", "--access-token", BOB)
    assert run("clear", "--yes").output == "removed 2 account(s)\n"
    assert "no accounts" in run("list").output
