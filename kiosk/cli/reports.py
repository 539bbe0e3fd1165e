"""`kiosk report NAME`: any report as CSV, XLSX or text, for scripts and cron."""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from kiosk.circulation import tabular
from kiosk.circulation.stats import KINDS, PeriodError, resolve
from kiosk.circulation.stats.tables import REPORTS, Ask, ReportError, make
from kiosk.cli.context import NewFile
from kiosk.i18n import LANGUAGES, N_, _, cli_language, translate

RANGE_NEEDS_BOTH = N_("A range needs both --from and --to, like --from 2026-11-01 --to 2026-11-30.")


def fail(message: str) -> None:
    """Say what is wrong and exit non-zero."""
    click.echo(_("error: {message}", message=message), err=True)
    raise SystemExit(1)


@click.command()
@click.argument("name", type=click.Choice(sorted(REPORTS)), metavar="NAME")
@click.option("--from", "first", default="", metavar="DATE", help="First day, like 2026-11-01.")
@click.option("--to", "last", default="", metavar="DATE", help="Last day, like 2026-11-30.")
@click.option(
    "--period",
    type=click.Choice(KINDS),
    default="month",
    show_default=True,
    help="This month, this term, this school year (without --from and --to).",
)
@click.option("--month", "month_text", default="", metavar="YYYY-MM", help="A month, like 2026-11.")
@click.option("--class", "class_name", default="", help="Only this class.")
@click.option("--card", default="", help="The student's card or id (for `student`).")
@click.option(
    "--format", "fmt", type=click.Choice(tabular.FORMATS), default="text", show_default=True,
    help="Output format.",
)  # fmt: skip
@click.option(
    "--lang", type=click.Choice(("zh", "en")), default=None,
    help="Column titles in Chinese (the default for csv and xlsx) or English.",
)  # fmt: skip
@click.option("--output", "-o", type=NewFile(), metavar="FILE", help="Write to a file, not stdout.")
@click.pass_context
def report(
    ctx: click.Context,
    name: str,
    first: str,
    last: str,
    period: str,
    month_text: str,
    class_name: str,
    card: str,
    fmt: str,
    lang: str | None,
    output: Path | None,
) -> None:
    """Print a report: classes, overdue, top-books, new-books, non-borrowers, student..."""
    kiosk_ctx = ctx.obj  # the main command's Context (not imported: it reaches the wiring)
    settings = kiosk_ctx.settings
    if lang is None:
        lang = "zh_CN" if fmt != "text" else cli_language()
    lang = "zh_CN" if lang.startswith("zh") else "en"
    assert lang in LANGUAGES
    if (first or last or period == "range") and not (first and last):
        # Else the missing end would be read as a date "-".
        fail(_(RANGE_NEEDS_BOTH))
    tz = ZoneInfo(settings.kiosk.timezone)
    store = kiosk_ctx.store()
    try:
        try:
            when = resolve(store, tz, period, month_text=month_text, first=first, last=last)
            table = make(name, store, tz, Ask(when, class_name, card, lang))
        except (PeriodError, ReportError) as e:
            fail(translate(e.message, cli_language(), **e.params))
            return
        title = translate(table.title, lang)
        data = tabular.render(fmt, table.headers(lang), table.values(), title)
    finally:
        store.close()
    if output:
        try:
            output.write_bytes(data)
        except OSError as e:  # a full disk: the message names the file (kiosk.cli.main says it)
            raise OSError(e.errno, e.strerror, str(output)) from None
        done = _("{count} rows written to {path}", count=len(table.rows), path=output)
        click.echo(done, err=True)
    elif fmt == "xlsx" and sys.stdout.isatty():
        fail(_("An XLSX file is not for the terminal: add --output FILE."))
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
