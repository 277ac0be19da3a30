"""What every store command group shares: the store opened from the same settings as
``gptgate serve`` (``--config``, ``--database-url``, ``--data-dir``, ``GPTGATE_*``), and store or
database failures as one-line errors instead of tracebacks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from gptgate.settings import Settings
    from gptgate.storage import Store


class StoreGroup(click.Group):
    """Turns store and database failures into one-line errors instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        from gptgate.storage import StoreError

        try:
            return super().invoke(ctx)
        except StoreError as exc:
            raise click.ClickException(str(exc)) from exc
        except SQLAlchemyError as exc:  # the driver's message, never the statement or its values
            orig = getattr(exc, "orig", None)
            raise click.ClickException(f"database error: {orig or type(exc).__name__}") from exc


@dataclass(slots=True)
class Opener:
    config: Path | None
    overrides: dict[str, Any]
    _store: Store | None = None

    def settings(self) -> Settings:
        from pydantic import ValidationError

        from gptgate.settings import load_settings

        try:
            return load_settings(self.config, **self.overrides)
        except ValidationError as exc:
            raise click.UsageError(f"invalid settings:\n{exc}") from exc

    def store(self) -> Store:
        if self._store is None:
            from gptgate.storage import open_from_settings

            self._store = open_from_settings(self.settings())
            click.get_current_context().call_on_close(self._store.close)
        return self._store


def store_of(ctx: click.Context) -> Store:
    opener = ctx.find_object(Opener)
    assert opener is not None
    return opener.store()


def store_group(name: str, help: str) -> click.Group:
    """A ``gptgate <name>`` command group whose commands reach the store with :func:`store_of`."""

    @click.group(name=name, cls=StoreGroup, help=help)
    @click.option(
        "--config", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="TOML config file."
    )
    @click.option("--database-url", help="Store URL (sqlite:///path, postgresql://...).")
    @click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), help="Data directory.")
    @click.pass_context
    def group(
        ctx: click.Context, config: Path | None, database_url: str | None, data_dir: Path | None
    ) -> None:
        ctx.obj = Opener(config, {"database_url": database_url, "data_dir": data_dir})

    return group


def echo_table(rows: Sequence[Sequence[str]]) -> None:
    """Print rows (the first is the header) as left-aligned columns two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
