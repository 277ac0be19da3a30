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
from tests.support import start_gateway

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


# -- through the gateway's Anthropic door, as Claude Code sends it ---------------------------------
CLAUDE_TOOLS = [
    {
        "name": "Read",
        "description": "Reads a file from the local filesystem.",
        "input_schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "file_path": {"description": "The absolute path to the file to read", "type": "string"},
                "offset": {"type": "integer", "minimum": 0},
            },
            "required": ["file_path"],
            "additionalProperties": False,
        },
    },
    {
        "name": "Bash",
        "description": "Executes a given bash command.",
        "input_schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "command": {"description": "The command to execute", "type": "string"},
                "timeout": {"type": "number"},
                "description": {"type": "string"},
            },
            "required": ["command"],
            "additionalProperties": False,
        },
    },
]
CLAUDE_HEADERS = {
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
    "x-api-key": "sk-ant-fake-key",
    "x-app": "cli",
    "User-Agent": "claude-cli/2.1.197 (external, sdk-cli)",
}
REMINDER = (
    "<system-reminder>\nUse the TodoWrite tool to plan; Read files before editing.\n</system-reminder>\n\n"
)


def sse_events(raw: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line[6:]) for line in raw.decode().split("\n") if line.startswith("data: ")]


async def test_claude_code_through_the_anthropic_door_runs_the_named_bash_command(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    served = await start_gateway(sim.base_url)
    try:
        messages: list[dict[str, Any]] = [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": REMINDER},
                    {
                        "type": "text",
                        "text": "Run `ls -la` with the Bash tool",
                        "cache_control": {"type": "ephemeral"},
                    },
                ],
            }
        ]
        body = {"model": "claude-opus-4-8", "max_tokens": 32000, "stream": True, "tools": CLAUDE_TOOLS}
        url = served.base_url + "/v1/messages?beta=true"
        async with http.post(url, json={**body, "messages": messages}, headers=CLAUDE_HEADERS) as response:
            raw = await response.read()
            assert response.status == 200, raw
        events = sse_events(raw)
        starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
        assert [(b["type"], b["name"]) for b in starts if b["type"] == "tool_use"] == [("tool_use", "Bash")]
        tool_use = next(b for b in starts if b["type"] == "tool_use")
        partial = "".join(
            e["delta"]["partial_json"]
            for e in events
            if e["type"] == "content_block_delta" and "partial_json" in e["delta"]
        )
        assert orjson.loads(partial) == {"command": "ls -la"}
        stop = next(e for e in events if e["type"] == "message_delta")
        assert stop["delta"]["stop_reason"] == "tool_use"

        # Claude Code runs it and sends the result back: the model answers in text, the loop ends
        messages += [
            {"role": "assistant", "content": [{**tool_use, "input": {"command": "ls -la"}}]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool_use["id"], "content": "total 0"}],
            },
        ]
        async with http.post(url, json={**body, "messages": messages}, headers=CLAUDE_HEADERS) as response:
            raw = await response.read()
            assert response.status == 200, raw
        events = sse_events(raw)
        assert [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"] == ["text"]
        assert next(e for e in events if e["type"] == "message_delta")["delta"]["stop_reason"] == "end_turn"
    finally:
        await served.close()
