from __future__ import annotations

from gptgate.canonical.names import NameMap, safe_id, short_name

LONG = "mcp__a_very_long_server_name_for_testing__and_an_even_longer_tool_name_here"


def test_short_names_pass_through() -> None:
    assert short_name("Bash") == "Bash"
    assert safe_id("toolu_01ABC-def") == "toolu_01ABC-def"


def test_long_names_are_shortened_deterministically() -> None:
    short = short_name(LONG)
    assert len(short) == 64 and short == short_name(LONG)
    assert short.startswith(LONG[:55]) and short[55] == "_"
    assert short_name(LONG + "x") != short


def test_unsafe_ids_are_cleaned_without_collisions() -> None:
    a, b = safe_id("call:1/a"), safe_id("call_1_a")
    assert a != b and all(c.isalnum() or c in "_-" for c in a)
    assert len(safe_id("x" * 100)) == 64


def test_name_map_gives_clients_back_their_names() -> None:
    names = NameMap()
    assert not names
    up = names.upstream(LONG)
    assert names.upstream("Bash") == "Bash"
    assert names and names.client(up) == LONG and names.client("Bash") == "Bash"
