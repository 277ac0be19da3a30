"""Rules of the house (DESIGN.md §1): spokes never import each other; the hub imports no spoke."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "gptgate"


def imports_of(package: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in (SRC / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        out[str(path.relative_to(SRC))] = names
    return out


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path} imports {name}"
        for path, names in imports_of(package).items()
        for name in names
        if name.startswith(forbidden)
    ]


def test_protocols_never_import_upstreams() -> None:
    assert offenders("protocols", ("gptgate.upstreams",)) == []


def test_upstreams_never_import_protocols() -> None:
    assert offenders("upstreams", ("gptgate.protocols",)) == []


def test_canonical_hub_imports_no_spoke() -> None:
    assert offenders("canonical", ("gptgate.protocols", "gptgate.upstreams", "gptgate.dispatch")) == []


def test_each_client_protocol_keeps_to_itself() -> None:
    for door in ("chat", "responses", "anthropic", "gemini"):
        others = tuple(
            f"gptgate.protocols.{o}" for o in ("chat", "responses", "anthropic", "gemini") if o != door
        )
        assert offenders(f"protocols/{door}", others) == []


def test_simulator_is_independent_of_the_gateway() -> None:
    allowed = ("gptgate.simulator",)
    bad = [
        f"{path} imports {name}"
        for path, names in imports_of("simulator").items()
        for name in names
        if name.startswith("gptgate") and not name.startswith(allowed)
    ]
    assert bad == []


def test_the_gateway_imports_no_upstream() -> None:
    """Upstreams are built from their registry; the gateway names none of them."""
    path = SRC / "gateway.py"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    allowed = {"gptgate.upstreams.registry", "gptgate.upstreams.base"}
    assert sorted(n for n in names if n.startswith("gptgate.upstreams") and n not in allowed) == []


def test_only_the_registry_imports_an_upstream_package() -> None:
    """One explicit table of upstreams (DESIGN §1 rule 6): no other module reaches into one."""
    packages = sorted(p.name for p in (SRC / "upstreams").iterdir() if (p / "__init__.py").exists())
    spokes = tuple(f"gptgate.upstreams.{p}" for p in packages)
    bad = [
        f"{path} imports {name}"
        for package in (
            "protocols",
            "dispatch",
            "accounts",
            "admin",
            "cli",
            "keys",
            "observability",
            "storage",
        )
        for path, names in imports_of(package).items()
        for name in names
        if name.startswith(spokes)
    ]
    assert bad == []


def test_the_call_context_is_hub_vocabulary() -> None:
    """The per-call context rides through every layer, so it may depend on none of the spokes."""
    forbidden = ("gptgate.protocols", "gptgate.upstreams", "gptgate.admin", "gptgate.observability")
    names = imports_of("dispatch")["dispatch/context.py"]
    assert sorted(n for n in names if n.startswith(forbidden)) == []


def test_the_stream_writers_know_no_dispatcher() -> None:
    """streaming/ owns the stream protocol; the relay (and any other writer) takes whatever
    satisfies it, so it imports neither the dispatcher nor a spoke."""
    forbidden = ("gptgate.dispatch", "gptgate.protocols", "gptgate.upstreams")
    assert offenders("streaming", forbidden) == []


def test_the_codex_native_door_builds_only_on_responses() -> None:
    """Codex's own routes are the Responses pass-through plus Codex's extras: they may use the
    Responses door, no other; and no client door depends on them."""
    others = tuple(f"gptgate.protocols.{o}" for o in ("chat", "anthropic", "gemini"))
    assert offenders("protocols/codex_native", others) == []
    for door in ("chat", "responses", "anthropic", "gemini"):
        assert offenders(f"protocols/{door}", ("gptgate.protocols.codex_native",)) == []


def test_the_guard_knows_no_spoke_and_no_middleware_runs() -> None:
    """guard.py wraps every route (auth, the call context, the client's error envelope); the
    envelopes are handed to it by the app, so it imports no protocol and no upstream. No module
    registers an aiohttp middleware: each would add coroutine frames to every request and to every
    open stream (the simulator, a separate server, is free to)."""
    names = {
        name
        for node in ast.walk(ast.parse((SRC / "guard.py").read_text()))
        if isinstance(node, ast.ImportFrom) and node.module
        for name in [node.module]
    }
    assert sorted(n for n in names if n.startswith(("gptgate.protocols", "gptgate.upstreams"))) == []
    registering = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "middlewares=" in path.read_text() and "simulator" not in path.parts
    ]
    assert registering == []
