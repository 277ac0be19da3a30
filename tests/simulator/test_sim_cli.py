"""``gptgate simulate`` as a process: it prints its URL and serves."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import orjson
from click.testing import CliRunner

from gptgate.simulator.cli import simulate


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(simulate, ["--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--mode", "--interval-ms", "--text-deltas", "--first-byte-delay-ms"):
        assert option in result.output
    assert "--no-auth" in result.output and "--quota" in result.output
    for option in ("--accounts", "--accounts-file", "--plan", "--quota-week", "--token-lifetime"):
        assert option in result.output


@asynccontextmanager
async def simulator_process(*args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    code = "from gptgate.simulator.cli import simulate; simulate()"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, "--port", "0", *args, stdout=asyncio.subprocess.PIPE
    )
    try:
        yield process
    finally:
        process.terminate()
        await process.wait()


async def read_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()


async def first_turn(base_url: str, account: dict[str, str]) -> int:
    headers = {
        "authorization": "Bearer " + account["access_token"],
        "chatgpt-account-id": account["account_id"],
    }
    body = {"model": "gpt-5.5", "stream": True, "store": False, "input": []}
    async with (
        aiohttp.ClientSession() as http,
        http.post(base_url + "/backend-api/codex/responses", json=body, headers=headers) as response,
    ):
        return response.status


async def test_accounts_are_printed() -> None:
    async with simulator_process("--accounts", "2", "--plan", "pro") as process:
        address = (await read_line(process)).rsplit(" ", 1)[1]
        document = orjson.loads(await read_line(process))
    assert document["base_url"] == address and len(document["accounts"]) == 2
    assert {account["plan"] for account in document["accounts"]} == {"pro"}


async def test_accounts_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    async with simulator_process("--accounts", "3", "--accounts-file", str(path)) as process:
        await read_line(process)
        assert await read_line(process) == f"wrote 3 accounts to {path}"
        document = orjson.loads(path.read_bytes())
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert await first_turn(document["base_url"], document["accounts"][2]) == 200


async def test_process_serves() -> None:
    code = "from gptgate.simulator.cli import simulate; simulate()"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, "--port", "0", "--quota", "3", stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
        prefix = "gptgate simulator listening on "
        assert line.startswith(prefix + "http://127.0.0.1:")
        async with (
            aiohttp.ClientSession() as http,
            http.get(line[len(prefix) :] + "/_sim/health") as response,
        ):
            assert await response.text() == "ok"
    finally:
        process.terminate()
        await process.wait()
