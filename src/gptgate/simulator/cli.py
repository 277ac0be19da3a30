"""``gptgate simulate``: run the Codex-backend simulator in the foreground."""

from __future__ import annotations

import click

from gptgate.simulator.config import SimulatorConfig
from gptgate.simulator.server import run_simulator


@click.command("simulate")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8090, show_default=True, type=int, help="Port (0 picks a free one).")
@click.option("--mode", type=click.Choice(["burst", "paced"]), default="burst", show_default=True)
@click.option(
    "--interval-ms", default=0.0, show_default=True, type=float, help="Paced mode: pause between events."
)
@click.option("--text-deltas", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--first-byte-delay-ms", default=0.0, show_default=True, type=float)
@click.option("--no-auth", is_flag=True, help="Accept any (or no) bearer token.")
@click.option(
    "--quota", type=click.IntRange(min=1), default=None, help="Turns per account per 5-hour window."
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the deterministic ids.")
@click.option("--no-record", is_flag=True, help="Do not keep the last requests for /_sim/requests.")
def simulate(
    host: str,
    port: int,
    mode: str,
    interval_ms: float,
    text_deltas: int,
    first_byte_delay_ms: float,
    no_auth: bool,
    quota: int | None,
    seed: int,
    no_record: bool,
) -> None:
    """Run a local fake of the Codex backend (responses, models, usage, OAuth token)."""
    config = SimulatorConfig(
        mode="paced" if mode == "paced" else "burst",
        interval_ms=interval_ms,
        text_deltas=text_deltas,
        first_byte_delay_ms=first_byte_delay_ms,
        require_auth=not no_auth,
        quota_requests_per_window=quota,
        seed=seed,
        record_requests=not no_record,
    )
    run_simulator(config, host, port)
