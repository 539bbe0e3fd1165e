"""`kiosk cards print` and `kiosk labels`: the dashboard's card and label sheets, saved as a file.

The file is the same page the dashboard prints (its CSS inlined), to open in a browser and print
at 100 % on A4; or, for `--out NAME.pdf`, that page printed to PDF by headless Chromium.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import click

from kiosk.circulation import catalogue
from kiosk.cli.context import NewFile
from kiosk.i18n import N_, _

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
NO_BROWSER = N_("a PDF needs Chromium (apt install chromium); or write .html and print it")


def write_page(html: str, out: Path) -> None:
    """Write the page as .html, or as a PDF printed by headless Chromium when OUT ends in .pdf."""
    if out.suffix.lower() != ".pdf":
        try:
            out.write_text(html, encoding="utf-8")
        except OSError as e:  # a full disk: the message names the file (kiosk.cli.main says it)
            raise OSError(e.errno, e.strerror, str(out)) from None
        return
    browser = next((found for b in BROWSERS if (found := shutil.which(b))), None)
    if browser is None:
        click.echo(_("error: {message}", message=_(NO_BROWSER)), err=True)
        raise SystemExit(1)
    with tempfile.TemporaryDirectory(prefix="kiosk-print-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(html, encoding="utf-8")
        args = [browser, "--headless", "--disable-gpu", "--no-pdf-header-footer"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        args += [f"--print-to-pdf={out.resolve()}", page.as_uri()]
        done = subprocess.run(args, capture_output=True, timeout=120, check=False)
        if done.returncode != 0 or not out.exists():
            click.echo(done.stderr.decode(errors="replace")[-2000:], err=True)
            raise SystemExit(1)


def _render(kiosk_ctx: click.Context, store: object, draw: object) -> str:
    from kiosk.web import create_app

    app = create_app(store=store, settings=kiosk_ctx.settings)  # type: ignore[arg-type, attr-defined]
    with app.test_request_context("/admin/"):
        return draw()  # type: ignore[operator]


def _day(value: str | None) -> str | None:
    """Return --since as given, or refuse what is not a day (else: "no such books")."""
    if value is not None:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(
                _("{value} is not a day like 2026-09-01", value=value)
            ) from None
    return value


@click.group()
def cards() -> None:
    """Print library cards."""


@cards.command("print")
@click.option("--class", "class_name", required=True, help="The class, as its students have it.")
@click.option(
    "--out",
    type=NewFile(),
    help="The page to write: .html, or .pdf (printed by Chromium).",
)
@click.option("--no-issue", is_flag=True, help="Print existing cards only; issue none.")
@click.pass_context
def print_cards(ctx: click.Context, class_name: str, out: Path | None, no_issue: bool) -> None:
    """Issue a card to each patron of CLASS without one, and write the class's A4 card sheets."""
    from kiosk.web.catalogue import print_css, render_card_sheet

    kiosk_ctx = ctx.obj  # the main command's Context (web must not reach the wiring)
    # Checked before any card is issued; a class like "3/2" must not name a folder.
    out = out or NewFile().convert(f"cards-{class_name.replace(os.sep, '-')}.html", None, ctx)
    store = kiosk_ctx.store()
    try:
        issued = [] if no_issue else catalogue.issue_missing_cards(store, class_name, "cli")
        rows = catalogue.class_cards(store.reader, class_name)
        if not rows:
            click.echo(_("error: no student of {name} has a card", name=class_name), err=True)
            raise SystemExit(1)
        html = _render(kiosk_ctx, store, lambda: render_card_sheet(class_name, rows, print_css()))
    finally:
        store.close()
    write_page(html, out)
    click.echo(
        _(
            "{issued} cards issued; {count} cards of {name} written to {path}",
            issued=len(issued),
            count=len(rows),
            name=class_name,
            path=out,
        )
    )


@click.command()
@click.argument("barcodes", nargs=-1)
@click.option(
    "--kind",
    type=click.Choice(["barcode", "spine"]),
    default="barcode",
    show_default=True,
    help="Barcode labels, or spine labels with the call number.",
)
@click.option(
    "--layout",
    type=click.Choice(["L7651", "L7160", "L7159"]),
    default="L7651",
    show_default=True,
    help="The A4 label sheet.",
)
@click.option(
    "--since",
    callback=lambda _c, _p, v: _day(v),
    help="The books added since this day (2026-09-01).",
)
@click.option("--skip", type=int, default=0, help="Labels already used on the first sheet.")
@click.option(
    "--out",
    type=NewFile(),
    default=Path("labels.html"),
    show_default=True,
    help="The page to write (.html).",
)
@click.pass_context
def labels(
    ctx: click.Context,
    barcodes: tuple[str, ...],
    kind: str,
    layout: str,
    since: str | None,
    skip: int,
    out: Path,
) -> None:
    """Write barcode or spine labels of BARCODES (or of books added since a day) on A4 sheets."""
    from kiosk.web.catalogue import LAYOUTS, print_css, render_label_sheet

    kiosk_ctx = ctx.obj
    store = kiosk_ctx.store()
    try:
        rows = catalogue.label_items(store.reader, barcodes, since)
        if not rows:
            click.echo(_("error: no such books"), err=True)
            raise SystemExit(1)
        sheet = LAYOUTS[layout]

        def draw() -> str:
            return render_label_sheet(kind, sheet, rows, skip % sheet.per_page, print_css())

        html = _render(kiosk_ctx, store, draw)
    finally:
        store.close()
    write_page(html, out)
    click.echo(_("{count} labels written to {path}", count=len(rows), path=out))
