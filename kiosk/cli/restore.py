"""`kiosk restore BACKUP`: put a checked backup in place of the store, the daemon stopped."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from kiosk.circulation.store import StoreError
from kiosk.cli.context import Context, fail, pass_ctx
from kiosk.i18n import _


@click.command()
@click.argument("backup", type=click.Path(path_type=Path, dir_okay=False))
@pass_ctx
def restore(ctx: Context, backup: Path) -> None:
    """Check BACKUP's integrity, then put it in place of the store (stop the kiosk first)."""
    from kiosk.ops.backups import COVER_DAMAGED, COVER_MISSING
    from kiosk.ops.backups import restore as restore_backup

    store_path = ctx.store_path()
    try:
        done = restore_backup(backup, store_path)
    except StoreError as e:
        if e.kind == "locked":
            fail(_("{error}; stop it first: sudo systemctl stop kiosk", error=e))
        fail(str(e))
    except (OSError, sqlite3.Error) as e:
        fail(str(e))
    click.echo(_("restored {backup} to {store}", backup=done.backup, store=done.store))
    for path in done.covers.missing:
        click.echo(_(COVER_MISSING, path=path))
    for path in done.covers.damaged:
        click.echo(_(COVER_DAMAGED, path=path))
    if done.kept is not None:
        click.echo(_("the store it replaced is kept as {path}", path=done.kept))
    click.echo(_("start the kiosk again: sudo systemctl start kiosk"))
