"""``gptgate simulate`` as a process: it prints its URL and serves."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
from click.testing import CliRunner

from gptgate.simulator.cli import simulate


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(simulate, ["--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--mode", "--interval-ms", "--text-deltas", "--first-byte-delay-ms"):
        assert option in result.output
    assert "--no-auth" in result.output and "--quota" in result.output


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
