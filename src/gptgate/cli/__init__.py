"""The ``gptgate`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from gptgate import __version__
from gptgate.cli import accounts_check, backup
from gptgate.cli.accounts import accounts
from gptgate.cli.keys import keys, stored_keys_exist
from gptgate.cli.usage import usage
from gptgate.settings import Settings, is_loopback, load_settings
from gptgate.simulator.cli import simulate


@click.group()
@click.version_option(__version__, prog_name="gptgate")
def main() -> None:
    """Serve the OpenAI, Anthropic and Gemini APIs from ChatGPT subscription accounts."""


@main.command()
@click.option(
    "--config", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="TOML config file."
)
@click.option("--host", help="Address to listen on [127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on; 0 picks a free one [8080].")
@click.option("--workers", type=int, help="Worker processes [1].")
@click.option("--api-key", "api_keys", multiple=True, help="A client API key (repeatable).")
@click.option(
    "--auth-json", type=click.Path(path_type=Path, dir_okay=False), help="Codex CLI auth.json to serve from."
)
@click.option("--codex-base-url", help="Base URL of the Codex backend.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option(
    "--tls-cert", type=click.Path(path_type=Path, dir_okay=False), help="PEM certificate: serve HTTPS."
)
@click.option(
    "--tls-key", type=click.Path(path_type=Path, dir_okay=False), help="PEM private key of --tls-cert."
)
@click.option(
    "--demo", is_flag=True, default=None, help="Embedded simulator + demo account; prints snippets."
)
def serve(config: Path | None, **flags: Any) -> None:
    """Run the gateway."""
    if not flags["api_keys"]:
        flags["api_keys"] = None
    try:
        settings = load_settings(config, **flags)
    except ValidationError as exc:
        raise click.UsageError(f"invalid settings:\n{exc}") from exc
    from gptgate.server import configure_logging, run

    configure_logging(settings.log_level, settings.log_format, settings.log_file)
    if not is_loopback(settings.host) and not settings.api_keys and not stored_keys_exist(settings):
        raise click.UsageError(
            f"refusing to listen on {settings.host} without an API key: set --api-key or GPTGATE_API_KEYS, "
            "or create one with 'gptgate keys create' (gptgate is never an open proxy)."
        )
    accounts = None
    if settings.demo:
        from gptgate.demo import demo_settings, start_simulator_process

        _, simulator_url = start_simulator_process()
        settings, accounts = demo_settings(settings, simulator_url)
    elif not (settings.access_token or settings.auth_json or settings.account_store):
        click.echo(
            "warning: no ChatGPT account configured; requests will fail (see README: Accounts).", err=True
        )

    from gptgate.admin.auth import console_hint, one_time_password

    settings, one_time = one_time_password(settings)  # before the workers fork: they share its hash

    def announce(port: int) -> None:
        scheme = "https" if settings.tls_cert is not None else "http"
        base = f"{scheme}://{settings.host}:{port}"
        click.echo(f"gptgate {__version__} listening on {base}", err=True)
        click.echo(console_hint(settings, base, one_time), err=True)
        click.echo(f"chat: {base}/chat — key holders sign in with their client key", err=True)
        if settings.demo:
            from gptgate.demo import snippets

            key = settings.key_values()[0] if settings.api_keys else "sk-demo"
            click.echo(snippets(base, key, settings.default_model))
        sys.stdout.flush()

    run(settings, accounts, announce)


@main.command("settings")
def show_settings() -> None:
    """List every setting with its environment variable and default."""
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        click.echo(f"{name}  (GPTGATE_{name.upper()}, default {default!r})\n    {field.description}")


main.add_command(simulate)
accounts.add_command(accounts_check.test)
accounts.add_command(accounts_check.refresh)
main.add_command(accounts)
main.add_command(usage)
main.add_command(keys)
main.add_command(backup.store)

if __name__ == "__main__":
    main()
