"""The `kiosk` group and its store-wide commands (run, demo, status, backup, import, export...)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import json
import os
import socket
import sqlite3
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from kiosk.circulation.store import StoreError
from kiosk.cli.context import (
    NO_FOLDER,
    Context,
    NewFile,
    fail,
    pass_ctx,
    shown_language,
    table_language,
)
from kiosk.cli.help import localize
from kiosk.i18n import N_, N_plural, _

__all__ = ["Context", "KioskGroup", "fail", "main", "pass_ctx"]


class KioskGroup(click.Group):
    """The `kiosk` group: every command's help in the terminal's language."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Return a command with its help translated."""
        cmd = super().get_command(ctx, name)
        if cmd is not None:
            localize(cmd)
        return cmd

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line, with this group's own help translated."""
        localize(self, subcommands=False)
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        """Run a command; a store or file it cannot use is a message, never a traceback."""
        try:
            return super().invoke(ctx)
        except StoreError as e:
            # Locked by another program, or full: the transaction was rolled back whole.
            fail(str(e))
        except OSError as e:
            if e.errno == errno.EPIPE:
                raise  # `kiosk report ... | head`: click ends quietly
            problem = e.strerror or str(e)
            fail(
                _("{path}: {problem}", path=e.filename, problem=problem) if e.filename else problem
            )


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
    from kiosk.daemon.app import Daemon, setup_logging, stop_on_signals
    from kiosk.ops.backups import daemon_lock

    settings = ctx.settings
    path = ctx.store_path()
    if not path.exists():
        # An empty new store would make every card "unknown": refuse, and say what to do.
        fail(_("{path}: no store here yet; run `kiosk init` first", path=path))
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


CANNOT_LISTEN = N_(
    "cannot show the pages on {listen}: {problem}; "
    "choose another port with --listen, like --listen 127.0.0.1:8081"
)
PAGES_AT = N_("The touchscreen page: http://{address}/ (desk: /desk/, librarian: /admin/)")


@main.command()
@click.option(
    "--dir", "folder", default="demo-data", show_default=True, help="Folder for the demo."
)
@click.option("--seed", default=2026, show_default=True, help="Random seed of the demo school.")
@click.option("--no-run", is_flag=True, help="Create the demo school, do not start the kiosk.")
@click.option(
    "--listen",
    default="127.0.0.1:8080",
    show_default=True,
    metavar="HOST:PORT",
    help="Where the demo's pages listen.",
)
def demo(folder: str, seed: int, no_run: bool, listen: str) -> None:
    """Create a demo school and run the kiosk on it with scans typed into this terminal."""
    from kiosk.circulation.demo import make_demo
    from kiosk.daemon.app import Daemon, setup_logging, stop_on_signals

    host, _sep, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        fail(_("--listen {listen}: must be HOST:PORT, like 127.0.0.1:8080", listen=listen), 2)
    problem = None if no_run else port_taken(host, int(port))
    if problem:
        # Checked before anything is made: a demo without its pages is no demo.
        fail(_(CANNOT_LISTEN, listen=listen, problem=problem))
    path = Path(folder)
    if path.is_file():
        fail(_("--dir {folder} is a file; the demo needs a folder", folder=path), 2)
    if taken := not_a_demo(path):
        # The demo school would be written into that store (or over that config).
        fail(_(NOT_A_DEMO, folder=path, found=taken))
    settings, hints = make_demo(path, seed=seed)
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, listen=listen))
    click.echo(hints)
    if no_run:
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "[::]") else host
    click.echo(_(PAGES_AT, address=f"{shown}:{port}"))
    setup_logging(settings.kiosk.log_level)
    Daemon(settings).run(stop_on_signals())


NOT_A_DEMO = N_(
    "{folder} holds a kiosk that is not a demo ({found}); the demo needs a folder of its own, "
    "like --dir demo-data"
)


def not_a_demo(folder: Path) -> str | None:
    """Return a file in `folder` that is not the demo's, or None when it is free for one."""
    from kiosk.circulation.demo import CONFIG

    config = folder / "config.toml"
    if config.is_file():
        made = config.read_text("utf-8", errors="replace").startswith(CONFIG.split("(seed")[0])
        return None if made else str(config)
    found = [p for p in (folder / "kiosk.db",) if p.exists()]
    return str(found[0]) if found else None


def port_taken(host: str, port: int) -> str | None:
    """Return why nothing can listen on host:port, or None when it is free."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host.strip("[]"), port))
        except OSError as e:
            return e.strerror or str(e)
    return None


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for monitoring.")
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Show counts, open loans, the last events and the store's health."""
    from kiosk.circulation.export import in_words
    from kiosk.circulation.reports import status_report
    from kiosk.i18n import cli_language

    store = ctx.store()
    report = status_report(store)
    if ctx.settings.sip2.address:
        from kiosk.sip2.conflicts import link_report

        report["sip2"] = link_report(store, ctx.settings.sip2.address)
    store.close()
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    lang, tz = cli_language(), ZoneInfo(ctx.settings.kiosk.timezone)
    if not ctx.settings.hub.url:
        del report["events_waiting_for_hub"]  # none is ever sent: it would look like a fault
    for key, value in report.items():
        if key == "last_events":
            click.echo(_("last events:"))
            for e in value:
                at = dt.datetime.fromisoformat(e["at"]).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
                said = in_words(e["type"], lang)
                click.echo(f"  {at}  {said}  {e['item_barcode'] or ''} {e['patron_id'] or ''}")
        elif key in STATUS_LINES:
            click.echo(f"{_(STATUS_LINES[key])}: {value}")
        elif key == "sip2":
            state = (
                _("online")
                if value["online"]
                else _("offline since {when}", when=value["offline_since"] or "?")
            )
            click.echo(
                _(
                    "library system (SIP2) {address}: {state}; "
                    "{waiting} waiting, {refused} refused",
                    address=value["address"],
                    state=state,
                    waiting=value["waiting"],
                    refused=value["refused"],
                )
            )
            if value["last_error"]:
                click.echo(_("  last error: {error}", error=value["last_error"]))
        else:
            click.echo(f"{key}: {value}")


# `kiosk status` in words (its --json keeps the keys, for monitoring).
STATUS_LINES = {
    "kiosk_id": N_("kiosk"),
    "store": N_("store"),
    "schema": N_("schema"),
    "integrity": N_("integrity check"),
    "patrons": N_("patrons"),
    "items": N_("books"),
    "open_loans": N_("on loan"),
    "overdue_loans": N_("overdue"),
    "events": N_("events"),
    "events_waiting_for_hub": N_("events waiting for the hub"),
}


@main.command()
@click.argument("dest", type=click.Path())
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    help="Then delete all but the newest N backups in DEST, a folder (made if missing).",
)
@pass_ctx
def backup(ctx: Context, dest: str, keep: int | None) -> None:
    """Copy the store to DEST (a file or folder) while the kiosk keeps running."""
    from kiosk.ops import backups

    # `newfolder/` names a folder even before it exists (Path() would drop the slash).
    folder, dest_path = dest.endswith(("/", os.sep)), Path(dest)
    if dest_path.exists() and not dest_path.is_dir():
        # Never over a file: `kiosk backup config.toml` (or the store itself) would be lost.
        fail(_(BACKUP_EXISTS, path=dest_path))
    parent = dest_path.absolute().parent
    if keep is None and not dest_path.is_dir() and not parent.is_dir():
        # Only the last folder is made: a USB stick not mounted must not fill the SD card.
        fail(_(NO_FOLDER, folder=parent))
    store = ctx.store()
    try:
        if keep is not None:
            try:
                dest_path.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                fail(_(backups.NEEDS_FOLDER, error=e))
        elif folder:
            try:
                dest_path.mkdir(exist_ok=True)
            except OSError as e:
                fail(_(CANNOT_MAKE_FOLDER, folder=dest_path, problem=e.strerror or e))
        out = store.backup(dest_path)
        copy = backups.backup_covers(out, Path(store.path))
    except (StoreError, OSError, sqlite3.Error) as e:
        fail(str(e))
    finally:
        store.close()
    click.echo(_("backup written: {path}", path=out))
    for path in copy.missing:
        click.echo(_(backups.COVER_MISSING, path=path))
    for path in copy.damaged:
        click.echo(_(backups.COVER_DAMAGED, path=path))
    if keep is not None:
        pruned = backups.prune(dest_path, keep)
        for old in pruned.backups:
            click.echo(_(backups.DELETED, path=old))
        for old in pruned.covers:
            click.echo(_(backups.COVER_DELETED, path=old))


CANNOT_MAKE_FOLDER = N_(
    "cannot make the folder {folder}: {problem}; name a folder you may write in"
)
BACKUP_EXISTS = N_(
    "{path} already exists and a backup never writes over a file; "
    "name a new file, or a folder (each backup then gets its own name)"
)


@main.command("import")
@click.argument("kind", type=click.Choice(["patrons", "items", "records"]))
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--encoding",
    help="Text encoding of the whole file, e.g. gb18030, cp1251, latin-1, marc-8 (default: found "
    "and checked: UTF-8 or GB18030, else CP1251 or Latin-1 when they read cleanly; for MARC the "
    "record's declared one first).",
)
@click.option("--sheet", help="The sheet of an .xlsx workbook (default: the first).")
@click.option("--dry-run", is_flag=True, help="Check every row, change nothing.")
@click.option(
    "--rejects",
    type=NewFile(),
    help="Import the good rows and write the bad ones to this file (same format) to fix and "
    "import again (exit code 3). Without it, one bad row imports nothing.",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=HEADER",
    help="Which of the file's columns is ours, for a file whose headers are not recognised: "
    "--map title=Buchtitel --map name=Nachname+Vorname (two joined), or a file of such lines. "
    "Ours: card_id name class grade role patron_id; barcode title author isbn call_number "
    "location.",
)
@pass_ctx
def import_(
    ctx: Context,
    kind: str,
    file: Path,
    encoding: str | None,
    sheet: str | None,
    dry_run: bool,
    rejects: Path | None,
    maps: tuple[str, ...],
) -> None:
    """Import patrons, items or records (for new books at the desk) from CSV, .xlsx or MARC."""
    from kiosk.circulation.importers import file_format, import_file, journal
    from kiosk.circulation.importers.checks import MESSAGES
    from kiosk.circulation.importers.columns import parse_map, read_map

    if rejects is not None and rejects.resolve() == file.resolve():
        fail(_("--rejects needs a file other than the one imported"))
    columns: dict[str, list[str]] = {}
    for given in maps:
        try:
            columns.update(read_map(Path(given)) if "=" not in given else parse_map([given]))
        except (ValueError, OSError):
            fail(_("--map takes COLUMN=HEADER (or a file of such lines), not {given}", given=given))

    if kind == "patrons" and file_format(file) == "marc":
        fail(_("MARC files hold books: use kiosk import items {file}", file=file))
    store = ctx.store(create=True)
    shown = sys.stderr.isatty()
    try:
        with journal.holding(store, wait=False) as free:
            pass
        if not free:
            click.echo(_("another import is running; waiting for it to finish"), err=True)
        # An import stopped by a kill or a power cut is undone before this one reads the store.
        with journal.holding(store):
            for stopped in journal.recover(store):
                if stopped.undone:
                    click.echo(_(UNDONE, file=stopped.file, at=stopped.started_at), err=True)
    except BaseException:
        store.close()
        raise

    def progress(done: int, total: int) -> None:
        if shown:
            text = (
                _("writing {done} / {total}", done=done, total=total)
                if total
                else _("checking {done}", done=done)
            )
            click.echo("\r" + text, nl=False, err=True)

    try:
        report = import_file(
            store,
            kind,
            file,
            encoding=encoding,
            sheet=sheet,
            dry_run=dry_run,
            actor="cli",
            progress=progress,
            own_process=True,  # this process's own connection: the daemon's commits stay durable
            rejects=rejects,
            columns=columns or None,
        )
    finally:
        store.close()
    if shown:
        click.echo(err=True)
    where = RECORD_AT if report.records else ROW_AT
    for found in report.warnings:
        click.echo(_(where, file=file, row=found.row, reason=found.reason), err=True)
    for err in report.errors:
        click.echo(_(where, file=file, row=err.row, reason=err.reason), err=True)
    if any(e.message == MESSAGES["missing_columns"] for e in report.errors):
        others = ", ".join(report.ignored_columns) or "-"
        click.echo(_(MAP_HINT, columns=others), err=True)
    if report.errors and not report.rejects_file:
        if not (report.file_problem and not report.counts()["rows"]):
            # The rows read, so a refusal is not "0 rows"; a file that could not be read at all
            # has none to count ("0 rows read ()" said nothing).
            click.echo(report.summary(), err=True)
        fail(_(BAD_ROWS, count=len(report.errors)))
    click.echo(report.summary())
    if report.rejects_file:
        sys.exit(PARTLY)


MAP_HINT = N_(
    "the file's other columns are: {columns}; say which is which with --map COLUMN=HEADER "
    "(see kiosk import --help)"
)
PARTLY = 3  # exit code: the good rows came in, the bad ones are in the rejects file
ROW_AT = N_("{file}: row {row}: {reason}")
BAD_ROWS = N_plural("{count} bad row, nothing imported", "{count} bad rows, nothing imported")
UNDONE = N_(
    "the import of {file} started at {at} was stopped before it finished: all of it has been undone"
)
RECORD_AT = N_("{file}: record {row}: {reason}")


@main.command()
@click.argument(
    "kind",
    type=click.Choice(["loans", "patrons", "items", "events", "koc", "koha-patrons", "marc"]),
)
@click.option("--bom", is_flag=True, help="Start with a UTF-8 BOM, for Excel on Windows.")
@click.option("--branch", default="MAIN", show_default=True, help="The library's Koha branch code.")
@click.option(
    "--holdings",
    type=click.Choice(["952", "852"]),
    default="952",
    show_default=True,
    help="MARC field of each copy: Koha's 952, or MARC 21's 852.",
)
@click.option(
    "--item-type", default="BK", show_default=True, help="Koha item type of every copy (952$y)."
)
@click.option(
    "-o",
    "--output",
    type=NewFile(),
    help="Write to this file (default: the standard output, which marc needs redirected).",
)
@table_language
@pass_ctx
def export(
    ctx: Context,
    kind: str,
    bom: bool,
    branch: str,
    holdings: str,
    item_type: str,
    output: Path | None,
    lang: str,
    codes: bool,
) -> None:
    """Write loans, patrons, items or events as CSV, or for Koha: koc, koha-patrons or marc."""
    if kind == "marc" and output is None and sys.stdout.isatty():
        # Binary records would scramble the terminal, as `gzip` refuses to write there too.
        fail(_(MARC_NOT_TO_TERMINAL))
    store = ctx.store()
    try:
        with contextlib.ExitStack() as opened:
            text, binary = sys.stdout, sys.stdout.buffer
            if output is not None and kind == "marc":
                binary = opened.enter_context(output.open("wb"))
            elif output is not None:
                text = opened.enter_context(output.open("w", encoding="utf-8", newline=""))
            _export(ctx, store, kind, text, binary, branch, holdings, item_type, bom, lang, codes)
    except BrokenPipeError:
        sys.stderr.close()  # `kiosk export loans | head` is fine
    finally:
        store.close()


MARC_NOT_TO_TERMINAL = N_(
    "MARC records are binary and are not written to a terminal; give a file: "
    "kiosk export marc -o books.mrc (or kiosk export marc > books.mrc)"
)


def _export(
    ctx: Context,
    store: Any,
    kind: str,
    text: Any,
    binary: Any,
    branch: str,
    holdings: str,
    item_type: str,
    bom: bool,
    lang: str,
    codes: bool,
) -> None:
    """Write one kind of export to the text or binary stream."""
    from kiosk.circulation.export import write_csv

    if kind == "koc":
        from kiosk.sync.koc import write_koc

        write_koc(store, text, ctx.settings.kiosk.timezone, ctx.settings.hub.koc_card)
        return
    if kind == "koha-patrons":
        from kiosk.circulation.koha_export import write_koha_patrons

        write_koha_patrons(store.reader, text, branch)
        return
    if kind == "marc":
        from kiosk.circulation.koha_export import write_marc

        write_marc(store.reader, binary, branch=branch, holdings=holdings, item_type=item_type)
        binary.flush()
        return
    # As the dashboard's download: Chinese titles (the ones `kiosk import` reads) by default.
    shown = shown_language(lang, codes)
    write_csv(store, kind, text, timezone=ctx.settings.kiosk.timezone, bom=bom, lang=shown)
