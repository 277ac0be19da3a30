"""Every setting is documented in README.md (name and environment variable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gptgate.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_setting_is_documented(name: str) -> None:
    assert f"| `{name}` | `GPTGATE_{name.upper()}` |" in README


def test_readme_opens_with_the_two_commands() -> None:
    block = README.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2
    assert "gptgate serve --demo" in block[0]
    assert block[1].startswith("bash scripts/test.sh")
