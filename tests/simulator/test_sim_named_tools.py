"""The tool the user names is the one called, with the quoted command or path as its argument."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from gptgate.simulator import RunningSimulator
from gptgate.simulator.naming import named_index, quoted_value
from tests.simulator.sim_helpers import (
    EXEC_COMMAND,
    TURN_PATH,
    assert_sequence,
    auth_headers,
    completed,
    function_tool,
    parse_sse,
    turn_body,
)

BASH = function_tool(
    "Bash",
    {"command": {"type": "string"}, "timeout": {"type": "number"}, "description": {"type": "string"}},
    ["command"],
)
READ = function_tool(
    "Read", {"file_path": {"type": "string"}, "offset": {"type": "integer", "minimum": 0}}, ["file_path"]
)
READ_FILE = function_tool("read_file", {"path": {"type": "string"}, "limit": {"type": "integer"}}, ["path"])
SHELL = function_tool("shell", {"command": {"type": "array", "items": {"type": "string"}}}, ["command"])
APPLY_PATCH = {"type": "custom", "name": "apply_patch", "description": "patch", "format": {"type": "text"}}


async def calls(
    http: aiohttp.ClientSession, sim: RunningSimulator, prompt: str, tools: list[Any]
) -> list[Any]:
    """The output items of one turn: ``[[type, name, arguments or input], ...]``."""
    body = turn_body(prompt, tools=tools)
    async with http.post(sim.base_url + TURN_PATH, json=body, headers=auth_headers()) as response:
        raw = await response.read()
        assert response.status == 200, raw
    events = parse_sse(raw)
    assert_sequence(events)
    return [
        [item["type"], item.get("name"), item.get("arguments", item.get("input"))]
        for item in completed(events)["output"]
    ]


async def test_named_tool_beats_exec_command_with_the_quoted_command(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    output = await calls(http, sim, "Run `ls -la /tmp` with the Bash tool", [EXEC_COMMAND, READ, BASH])
    assert output == [["function_call", "Bash", '{"command":"ls -la /tmp"}']]


async def test_named_tool_is_called_alone_even_with_parallel_calls(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    output = await calls(http, sim, 'use read_file on "docs/notes.md"', [EXEC_COMMAND, READ_FILE, BASH])
    assert output == [["function_call", "read_file", '{"path":"docs/notes.md"}']]


async def test_name_matches_case_insensitively_and_quotes_fill_the_path(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    output = await calls(http, sim, "please use the read tool to open 'src/app.py'", [BASH, READ])
    assert output == [["function_call", "Read", '{"file_path":"src/app.py"}']]


async def test_unquoted_command_of_run_with(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    output = await calls(http, sim, "Run echo hi with the Bash tool", [READ, BASH])
    assert output == [["function_call", "Bash", '{"command":"echo hi"}']]


async def test_named_exec_command_and_array_commands(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    output = await calls(http, sim, "call exec_command with `git status`", [READ, EXEC_COMMAND])
    assert output == [["function_call", "exec_command", '{"cmd":"git status"}']]
    output = await calls(http, sim, "list the files with `ls` using the shell tool", [EXEC_COMMAND, SHELL])
    assert output == [["function_call", "shell", '{"command":["bash","-lc","ls"]}']]


async def test_named_custom_tool_gets_the_quoted_input(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    output = await calls(http, sim, "use apply_patch with `*** Begin Patch`", [EXEC_COMMAND, APPLY_PATCH])
    assert output == [["custom_tool_call", "apply_patch", "*** Begin Patch"]]


async def test_no_name_keeps_the_default_choice(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    """Plain words are not names ("read the file" is not Read); exec_command stays preferred."""
    output = await calls(http, sim, "read the file `a.txt` and bash it", [READ, BASH, EXEC_COMMAND])
    assert output == [["function_call", "exec_command", '{"cmd":"echo hi"}']]


async def test_tool_choice_still_wins(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    body = turn_body("Run `ls` with the Bash tool", tools=[BASH, READ])
    body["tool_choice"] = {"type": "function", "name": "Read"}
    async with http.post(sim.base_url + TURN_PATH, json=body, headers=auth_headers()) as response:
        output = completed(parse_sse(await response.read()))["output"]
    assert [(item["name"], orjson.loads(item["arguments"])) for item in output] == [
        ("Read", {"file_path": "sim"})
    ]


def test_naming_rules() -> None:
    names = ["Read", "Bash", "TodoWrite", "read_file"]
    reminder = "<system-reminder>use the TodoWrite tool often</system-reminder>\n\n"
    assert named_index(names, reminder + "Run echo hi with the Bash tool") == 1
    assert named_index(names, "Run `Bash`, then Read") == 1  # the earliest mention
    assert named_index(names, "the read_files helper") is None  # identifiers are whole words
    assert named_index(names, "see read_file.") == 3
    assert named_index(names, "read the code, bash the tests") is None
    assert named_index(names, reminder + "hello") is None
    assert quoted_value("with the `Bash` tool run `pwd`", "Bash") == "pwd"  # not the name itself
    assert quoted_value("don't use Read on 'a b.txt'", "Read") == "a b.txt"
    assert quoted_value("use Read", "Read") is None
