"""The `kiosk` command: thin commands whose docstring is their help."""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from kiosk.circulation.store import StoreError
from kiosk.cli_context import Context, fail, pass_ctx
from kiosk.cli_help import localize
from kiosk.i18n import _

__all__ = ["AREA_COMMANDS", "Context", "KioskGroup", "fail", "main", "pass_ctx"]


# Commands that live with their area, imported only when used so that `kiosk run` starts fast.
AREA_COMMANDS = {
    "devices": "kiosk.devices.cli:devices",
    "hub": "kiosk.sync.cli:hub",
    "doctor": "kiosk.ops.doctor:doctor",
    "restore": "kiosk.ops.cli:restore",
    "password": "kiosk.web.cli:password",
    "report": "kiosk.reports_cli:report",
}


class KioskGroup(click.Group):
    """A group that also offers the area commands, loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List built-in and area commands that are installed."""
        return sorted(set(super().list_commands(ctx)) | set(self._areas()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Return a built-in command, or import an area's command, with its help translated."""
        cmd = super().get_command(ctx, name) or self._areas().get(name)
        if cmd is not None:
            localize(cmd)
        return cmd

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line, with this group's own help translated."""
        localize(self, subcommands=False)
        return super().main(*args, **kwargs)

    @staticmethod
    def _areas() -> dict[str, click.Command]:
        found = {}
        for name, target in AREA_COMMANDS.items():
            module, _, attr = target.partition(":")
            # An area that fails to import is a broken install: say so, never hide the command.
            found[name] = getattr(importlib.import_module(module), attr)
        return found


@click.group(cls=KioskGroup)
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Config file (default: $KIOSK_CONFIG, else ./config.toml).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Self-service circulation kiosk for school libraries."""
    ctx.obj = Context(config_path)


@main.command()
@pass_ctx
def init(ctx: Context) -> None:
    """Create the store, or upgrade it in place, and load the default rules."""
    store = ctx.store(create=True)
    click.echo(_("store ready: {path} (schema {schema})", path=store.path, schema=store.schema[-1]))
    store.close()


@main.command()
@pass_ctx
def run(ctx: Context) -> None:
    """Run the kiosk daemon until SIGTERM or SIGINT."""
    from kiosk.app import Daemon, setup_logging, stop_on_signals
    from kiosk.ops.backups import daemon_lock

    settings = ctx.settings
    setup_logging(settings.kiosk.log_level)
    stop = stop_on_signals()
    # One daemon per store; `kiosk restore` refuses while this lock is held.
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(daemon_lock(settings.resolve(settings.store.path), wait_s=2.0))
            daemon = Daemon(settings)
        except (StoreError, ValueError, OSError) as e:
            fail(str(e))
        daemon.run(stop)


@main.command()
@click.option(
    "--dir", "folder", default="demo-data", show_default=True, help="Folder for the demo."
)
@click.option("--seed", default=2026, show_default=True, help="Random seed of the demo school.")
@click.option("--no-run", is_flag=True, help="Create the demo school, do not start the kiosk.")
def demo(folder: str, seed: int, no_run: bool) -> None:
    """Create a demo school and run the kiosk on it with scans typed into this terminal."""
    from kiosk.app import Daemon, setup_logging, stop_on_signals
    from kiosk.circulation.demo import make_demo

    path = Path(folder)
    settings, hints = make_demo(path, seed=seed)
    click.echo(hints)
    if no_run:
        return
    setup_logging(settings.kiosk.log_level)
    Daemon(settings).run(stop_on_signals())


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for monitoring.")
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Show counts, open loans, the last events and the store's health."""
    from kiosk.circulation.reports import status_report

    store = ctx.store()
    report = status_report(store)
    store.close()
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for key, value in report.items():
        if key == "last_events":
            click.echo(_("last events:"))
            for e in value:
                click.echo(
                    f"  {e['at']}  {e['type']:<10} {e['item_barcode'] or ''} {e['patron_id'] or ''}"
                )
        else:
            click.echo(f"{key}: {value}")


@main.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    help="Then delete all but the newest N backups in DEST, a folder (made if missing).",
)
@pass_ctx
def backup(ctx: Context, dest: Path, keep: int | None) -> None:
    """Copy the store to DEST (a file or folder) while the kiosk keeps running."""
    from kiosk.ops.backups import DELETED, NEEDS_FOLDER, prune

    if keep is not None:
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            fail(_(NEEDS_FOLDER, error=e))
    store = ctx.store()
    try:
        out = store.backup(dest)
    except (StoreError, OSError) as e:
        fail(str(e))
    finally:
        store.close()
    click.echo(_("backup written: {path}", path=out))
    if keep is not None:
        for old in prune(dest, keep):
            click.echo(_(DELETED, path=old))


@main.command("import")
@click.argument("kind", type=click.Choice(["patrons", "items"]))
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--encoding", help="Text encoding (default: detect UTF-8, UTF-8 with BOM or GB18030)."
)
@click.option("--dry-run", is_flag=True, help="Check every row, change nothing.")
@pass_ctx
def import_(ctx: Context, kind: str, file: Path, encoding: str | None, dry_run: bool) -> None:
    """Import patrons or items from a CSV file; any bad row stops the whole import."""
    from kiosk.circulation.importer import import_csv

    store = ctx.store(create=True)
    try:
        report = import_csv(store, kind, file, encoding=encoding, dry_run=dry_run, actor="cli")
    finally:
        store.close()
    for err in report.errors:
        click.echo(
            _("{file}: row {row}: {reason}", file=file, row=err.row, reason=err.reason), err=True
        )
    if report.errors:
        fail(_("{count} bad rows, nothing imported", count=len(report.errors)))
    click.echo(report.summary())


@main.command()
@click.argument("kind", type=click.Choice(["loans", "patrons", "items", "events", "koc"]))
@click.option("--bom", is_flag=True, help="Start with a UTF-8 BOM, for Excel on Windows.")
@pass_ctx
def export(ctx: Context, kind: str, bom: bool) -> None:
    """Write loans, patrons, items or events as CSV, or koc (Koha offline circulation file)."""
    from kiosk.circulation.export import write_csv

    store = ctx.store()
    try:
        if kind == "koc":
            from kiosk.sync.koc import write_koc

            write_koc(store, sys.stdout, ctx.settings.kiosk.timezone, ctx.settings.hub.koc_card)
            return
        write_csv(store, kind, sys.stdout, timezone=ctx.settings.kiosk.timezone, bom=bom)
    except BrokenPipeError:
        sys.stderr.close()  # `kiosk export loans | head` is fine
    finally:
        store.close()


if __name__ == "__main__":
    main()
