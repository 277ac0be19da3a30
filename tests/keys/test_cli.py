"""``gptgate keys``: the secret printed once (alone on stdout), never again; limits and states."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner, Result

from gptgate.cli import main
from gptgate.keys.secrets import looks_like_secret


def keys(data_dir: Path, *args: str) -> Result:
    runner = CliRunner()
    return runner.invoke(main, ["keys", "--data-dir", str(data_dir), *args], catch_exceptions=False)


def test_create_list_show_update_rotate_revoke(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = keys(data, "create", "alice", "--rpm", "60", "--models", "gpt-5*,claude-*", "--quiet")
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert looks_like_secret(secret)
    listed = keys(data, "list")
    assert secret not in listed.output
    assert f"alice  {secret[:9]}...  active" in listed.output
    assert "models=gpt-5*,claude-* rpm=60" in listed.output
    [record] = orjson.loads(keys(data, "list", "--json").stdout)
    assert record["limits"]["rpm"] == 60 and record["revoked_at"] is None
    updated = keys(data, "update", "alice", "--tpm", "1000", "--max-effort", "high", "--expires", "30d")
    assert (
        updated.output
        == "updated alice ({}), limits: models=gpt-5*,claude-* rpm=60 tpm=1000 max_effort=high\n".format(
            record["id"]
        )
    )
    shown = keys(data, "show", record["id"])
    assert "state      active" in shown.output and secret not in shown.output
    rotated = keys(data, "rotate", "alice", "-q").stdout.strip()
    assert looks_like_secret(rotated) and rotated != secret
    assert keys(data, "revoke", "alice").output == f"revoked alice ({record['id']})\n"
    assert "state      revoked" in keys(data, "show", "alice").output


def test_bad_limits_and_unknown_keys_are_one_line_errors(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = keys(data, "create", "x", "--max-effort", "ultra")
    assert (
        bad.exit_code == 2
        and "max_effort must be one of none, minimal, low, medium, high, xhigh" in bad.output
    )
    missing = keys(data, "revoke", "nobody")
    assert missing.exit_code == 1 and "no key 'nobody' (see: gptgate keys list)" in missing.output
    keys(data, "create", "dup", "-q")
    duplicate = keys(data, "create", "dup", "-q")
    assert duplicate.exit_code == 1 and "a key named 'dup' already exists" in duplicate.output
