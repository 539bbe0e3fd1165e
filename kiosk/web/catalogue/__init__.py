"""Printed library cards and book labels: the librarian's pages and their A4 print views.

Barcodes are Code 128, drawn as SVG by python-barcode (pure Python, no image library or
Ghostscript needed on a Raspberry Pi; segno draws only QR codes, treepoem needs Ghostscript).
Each sheet is laid out in millimetres for a label paper sold everywhere (see `LAYOUTS`), so what
Chromium prints at 100 % lands on the labels; the first labels of a used sheet can be skipped.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from kiosk.circulation import catalogue
from kiosk.i18n import N_
from kiosk.web import admin as admin_pages
from kiosk.web import gettext, web

bp = Blueprint("catalogue", __name__, url_prefix="/admin")
bp.before_request(admin_pages.guard)  # the dashboard's login and network check


@dataclass(frozen=True)
class Layout:
    """One label sheet: A4, `columns` x `rows` labels of `width` x `height` mm."""

    name: str
    title: str
    columns: int
    rows: int
    width: float
    height: float
    top: float
    left: float
    pitch_x: float
    pitch_y: float

    @property
    def per_page(self) -> int:
        """Return how many labels one sheet holds."""
        return self.columns * self.rows

    def position(self, index: int) -> tuple[float, float]:
        """Return (left, top) in mm of the label at this place on its sheet."""
        row, column = divmod(index % self.per_page, self.columns)
        return self.left + column * self.pitch_x, self.top + row * self.pitch_y


# Card sheets: 10 business cards of 85 x 54 mm per A4 (Avery Zweckform C32011 and the many
# sheets like it), the size of a bank card, so a printed card fits a standard card holder.
CARD_SHEET = Layout("C32011", N_("10 cards, 85 × 54 mm (C32011)"), 2, 5, 85, 54, 13.5, 17, 91, 54)
LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout(
            "L7651",
            N_("65 labels, 38.1 × 21.2 mm (L7651)"),
            5,
            13,
            38.1,
            21.2,
            10.7,
            4.7,
            40.6,
            21.2,
        ),
        Layout(
            "L7160",
            N_("21 labels, 63.5 × 38.1 mm (L7160)"),
            3,
            7,
            63.5,
            38.1,
            15.15,
            7.2,
            66.0,
            38.1,
        ),
        Layout(
            "L7159",
            N_("24 labels, 63.5 × 33.9 mm (L7159)"),
            3,
            8,
            63.5,
            33.9,
            12.9,
            6.5,
            66.0,
            33.9,
        ),
    )
}
KINDS = {"barcode": N_("barcode labels"), "spine": N_("spine labels (call number)")}


def barcode_image(code: str, module_mm: float = 0.33, height_mm: float = 10.0) -> Markup:
    """Return an <img> of the code as a Code 128 barcode (SVG data URI), or '' if it cannot be."""
    import barcode
    from barcode.errors import BarcodeError
    from barcode.writer import SVGWriter

    try:
        drawing = barcode.get("code128", code, writer=SVGWriter())
        svg = drawing.render(
            writer_options={
                "module_width": module_mm,
                "module_height": height_mm,
                "quiet_zone": 10 * module_mm,  # ten modules, as Code 128 asks
                "write_text": False,
                "background": "white",
            }
        )
    except (BarcodeError, ValueError, KeyError, UnicodeError):
        return Markup("")  # not encodable (Chinese in a code): the number stays printed below
    data = base64.b64encode(svg).decode("ascii")
    return Markup('<img class="barcode" alt="" src="data:image/svg+xml;base64,{}">').format(data)


def pages(entries: list[Any], layout: Layout, skip: int = 0) -> list[list[Any]]:
    """Split entries into sheets, after `skip` empty places (labels already used)."""
    places: list[Any] = [None] * skip + list(entries)
    return [places[i : i + layout.per_page] for i in range(0, len(places), layout.per_page)]


def sheet_css() -> str:
    """Return the CSS of every layout: A4 margins, label size and the gaps between labels."""
    rules = []
    for layout in (CARD_SHEET, *LAYOUTS.values()):
        gap_x = round(layout.pitch_x - layout.width, 2)
        gap_y = round(layout.pitch_y - layout.height, 2)
        rules.append(
            f".sheet.{layout.name} {{ padding: {layout.top}mm 0 0 {layout.left}mm; "
            f"grid-template-columns: repeat({layout.columns}, {layout.width}mm); "
            f"grid-auto-rows: {layout.height}mm; column-gap: {gap_x}mm; row-gap: {gap_y}mm; "
            "align-content: start; }"
        )
    return "\n".join(rules) + "\n"


@bp.get("/sheets.css")
def sheets_css() -> Any:
    """Return the label layouts' CSS (kept with LAYOUTS, so the two cannot disagree)."""
    return Response(sheet_css(), mimetype="text/css")


def print_css() -> Markup:
    """Return all the CSS of the sheets, for a page saved as a file (ours: safe in <style>)."""
    static = Path(__file__).parents[1] / "static"  # kiosk/web/static, shared by the areas
    css = (static / "catalogue.css").read_text(encoding="utf-8")
    # A saved page finds the font the package ships where it is installed (a PC that opens a
    # copy elsewhere uses its own Chinese fonts, the next in the list).
    css = css.replace('url("fonts/', f'url("{(static / "fonts").as_uri()}/')
    return Markup(css + sheet_css())  # our own files, no user text


# -- cards ------------------------------------------------------------------------------------


@bp.get("/cards")
def cards() -> str:
    """List the classes, how many of their people have no card yet, and links to print."""
    return render_template("catalogue/cards.html", classes=catalogue.classes(web().store.reader))


@bp.post("/cards/issue")
def cards_issue() -> Any:
    """Issue a card to everyone of the class without one, then show the class's sheet."""
    class_name = request.form.get("class", "")
    if not class_name:
        abort(400)
    issued = catalogue.issue_missing_cards(web().store, class_name, admin_pages.actor())
    flash(gettext("Cards issued: {count}.", count=len(issued)))
    return redirect(url_for("catalogue.cards_print", **{"class": class_name}))  # type: ignore[arg-type]


@bp.get("/cards/print")
def cards_print() -> str:
    """Show the A4 card sheets of a class, ready to print."""
    class_name = request.args.get("class", "")
    rows = catalogue.class_cards(web().store.reader, class_name)
    return render_card_sheet(class_name, rows)


def render_card_sheet(
    class_name: str, rows: list[dict[str, Any]], css: Markup | None = None
) -> str:
    """Return the card sheets' page (with the CSS inlined when it is saved as a file)."""
    settings = web().settings
    return render_template(
        "catalogue/cards_print.html",
        class_name=class_name,
        sheets=pages(rows, CARD_SHEET),
        count=len(rows),
        layout=CARD_SHEET,
        school=settings.kiosk.school,
        barcode=barcode_image,
        inline_css=css,
    )


# -- labels -----------------------------------------------------------------------------------


SHEETS_AT_ONCE = 20  # label sheets in one print view; more come in parts


@bp.get("/labels")
def labels() -> str:
    """Show the form to choose books and a label sheet."""
    return labels_form()


# Why no label sheet was shown, said beside the barcodes.
NO_BOOKS = {
    "barcodes": N_("No book has these barcodes: {barcodes}."),
    "since": N_("No books were added since {day}."),
    "neither": N_("No books found: give barcodes, or a day books were added since."),
}


def labels_form(error: str = "") -> str:
    """Render the labels form with what was asked (kept after a refusal) and the error."""
    return render_template(
        "catalogue/labels.html", layouts=LAYOUTS, kinds=KINDS, typed=request.args, error=error
    )


@bp.get("/labels/print")
def labels_print() -> Any:
    """Show barcode or spine labels of the chosen books on the chosen sheet, ready to print."""
    kind = request.args.get("kind", "barcode")
    layout = LAYOUTS.get(request.args.get("layout", "L7651"))
    if kind not in KINDS or layout is None:
        abort(400)
    barcodes = request.args.get("barcodes", "").split()
    since = request.args.get("since", "").strip() or None
    skip = request.args.get("skip", "0")
    rows = catalogue.label_items(web().store.reader, barcodes, since)
    if not rows:
        # The form again, with what was typed: a mistyped barcode is put right, not typed again.
        if not barcodes and not since:  # nothing typed to keep: the form, and what to give
            flash(gettext(NO_BOOKS["neither"]), "error")
            return redirect(url_for("catalogue.labels"))
        if barcodes:
            why = gettext(NO_BOOKS["barcodes"], barcodes=", ".join(dict.fromkeys(barcodes)))
        else:
            why = gettext(NO_BOOKS["since"], day=since)
        return labels_form(why), 400
    found = {r["barcode"] for r in rows}
    missing = [b for b in dict.fromkeys(barcodes) if b not in found]
    return render_label_sheet(
        kind,
        layout,
        rows,
        int(skip) % layout.per_page if skip.isdigit() else 0,
        missing=missing,
        part=request.args.get("part", 1, type=int) or 1,
    )


def render_label_sheet(
    kind: str,
    layout: Layout,
    rows: list[dict[str, Any]],
    skip: int = 0,
    css: Markup | None = None,
    missing: list[str] | None = None,
    part: int | None = None,
) -> str:
    """Return the label sheets' page; with `part`, that part of SHEETS_AT_ONCE sheets only."""
    sheets = pages(rows, layout, skip)
    parts = max(1, -(-len(sheets) // SHEETS_AT_ONCE))
    if part is not None:
        # A year of new books is a hundred sheets: printed a part at a time, never one page.
        part = min(max(1, part), parts)
        sheets = sheets[(part - 1) * SHEETS_AT_ONCE : part * SHEETS_AT_ONCE]
    return render_template(
        "catalogue/labels_print.html",
        kind=kind,
        layout=layout,
        sheets=sheets,
        part=part or 1,
        parts=parts if part is not None else 1,
        count=len(rows),
        missing=missing or [],
        kinds=KINDS,
        school=web().settings.kiosk.school,
        barcode=barcode_image,
        inline_css=css,
    )
