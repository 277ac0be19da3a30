"""``gptgate simulate``: run the Codex-backend simulator in the foreground."""

from __future__ import annotations

from pathlib import Path

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
@click.option(
    "--quota-week", type=click.IntRange(min=1), default=None, help="Turns per account per weekly window."
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the deterministic ids.")
@click.option("--no-record", is_flag=True, help="Do not keep the last requests for /_sim/requests.")
@click.option(
    "--accounts",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Accounts to create, with their tokens (printed as one JSON line, or see --accounts-file).",
)
@click.option(
    "--accounts-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the created accounts here as JSON instead of printing them.",
)
@click.option("--plan", default="plus", show_default=True, help="Plan type of the created accounts.")
@click.option(
    "--token-lifetime",
    default=10 * 24 * 3600,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds an issued access token lives.",
)
@click.option(
    "--auth-delay-ms", default=0.0, show_default=True, type=float, help="Delay of /oauth/token and session."
)
def simulate(
    host: str,
    port: int,
    mode: str,
    interval_ms: float,
    text_deltas: int,
    first_byte_delay_ms: float,
    no_auth: bool,
    quota: int | None,
    quota_week: int | None,
    seed: int,
    no_record: bool,
    accounts: int,
    accounts_file: Path | None,
    plan: str,
    token_lifetime: int,
    auth_delay_ms: float,
) -> None:
    """Run a local fake of the Codex backend (responses, models, usage, OAuth token, session)."""
    config = SimulatorConfig(
        mode="paced" if mode == "paced" else "burst",
        interval_ms=interval_ms,
        text_deltas=text_deltas,
        first_byte_delay_ms=first_byte_delay_ms,
        require_auth=not no_auth,
        quota_requests_per_window=quota,
        quota_requests_per_week=quota_week,
        seed=seed,
        record_requests=not no_record,
        accounts=accounts,
        account_plan=plan,
        access_token_lifetime_s=token_lifetime,
        auth_delay_ms=auth_delay_ms,
    )
    run_simulator(config, host, port, accounts_file)
