"""``gptgate store backup FILE`` and ``gptgate store restore FILE`` (see ``storage/backup.py``).

SQLite is copied online and consistently (gateways may keep running); restore then migrates the
copy to the current schema and reads every account with the configured key, so a backup made by
an older gptgate, or with another key, is said plainly. PostgreSQL: the commands print the
``pg_dump`` / ``pg_restore`` path instead.
"""

from __future__ import annotations

from pathlib import Path

import click

from gptgate.cli.store import Opener, store_group

store = store_group("store", "Back up and restore the store (accounts, keys, usage).")


def _sqlite(ctx: click.Context) -> Path:
    from gptgate.storage.backup import PG_DUMP, sqlite_path
    from gptgate.storage.connect import database_url

    opener = ctx.find_object(Opener)
    assert opener is not None
    path = sqlite_path(database_url(opener.settings()))
    if path is None:
        click.echo(PG_DUMP)
        ctx.exit(2)
        raise AssertionError("unreachable")
    return path


@store.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_context
def backup(ctx: click.Context, file: Path) -> None:
    """Write a consistent copy of the live store to FILE (mode 0600)."""
    from gptgate.storage.backup import backup_sqlite

    pages = backup_sqlite(_sqlite(ctx), file)
    click.echo(f"backed up {pages} pages to {file}; keep the secret key too: the tokens are sealed with it")


@store.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--yes", is_flag=True, help="Replace a store that holds accounts.")
@click.pass_context
def restore(ctx: click.Context, file: Path, yes: bool) -> None:
    """Replace the store with the backup FILE, then migrate it and check it reads."""
    from gptgate.storage import open_from_settings
    from gptgate.storage.backup import check_backup, restore_sqlite

    target = _sqlite(ctx)
    check_backup(file)
    opener = ctx.find_object(Opener)
    assert opener is not None
    settings = opener.settings()
    if target.exists() and not yes:
        current = open_from_settings(settings, migrate=False)
        try:
            held = len(current.list())
        except Exception:  # an empty, older or unreadable store: nothing to keep
            held = 0
        finally:
            current.close()
        if held:
            raise click.ClickException(f"the store holds {held} account(s); pass --yes to replace it")
    pages = restore_sqlite(file, target)
    restored = open_from_settings(settings)  # migrates a backup of an earlier schema
    try:
        accounts = restored.list()  # every token opened: the key matches
    finally:
        restored.close()
    click.echo(f"restored {pages} pages from {file}: {len(accounts)} account(s), schema up to date")
