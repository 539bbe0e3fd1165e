"""A new book at the desk (`/desk/new-book`): a helper or the librarian catalogues it.

Scan its ISBN (a MARC record fills in what the catalogue knows), then its new barcode label;
`kiosk.circulation.catalogue` checks and records it, and its refusal is shown with the form.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from kiosk.circulation import catalogue
from kiosk.circulation.events import Refusal
from kiosk.i18n import N_
from kiosk.web import gettext, web
from kiosk.web.desk import NOT_OPEN, bp, operator

REFUSALS = {
    "barcode_needed": N_("Scan the new barcode label."),
    "bad_barcode": N_("The barcode {barcode} has a blank or a control character in it."),
    "barcode_taken": N_("The barcode {barcode} is already on a book: {title}. Use a new label."),
    "title_needed": N_("Type the title."),
    "too_long": N_("{field} is longer than {limit} characters."),
}


@bp.route("/new-book", methods=["GET", "POST"])
def new_book() -> Any:
    """Catalogue a new book: scan its ISBN, then its new barcode label (a MARC record fills in)."""
    ctx = web()
    op = operator(ctx)
    if op is None:
        return render_template("catalogue/new_book.html", op=None, reason=NOT_OPEN)
    form = {k: request.values.get(k, "").strip() for k in catalogue.NEW_BOOK_FIELDS}
    error, source = None, None
    if request.method == "POST":
        done = catalogue.catalogue_new_book(ctx.store, form, op["actor"])
        if not isinstance(done, Refusal):
            flash(
                gettext(
                    "Catalogued: {title} ({barcode}).", title=form["title"], barcode=form["barcode"]
                )
            )
            return redirect(url_for("desk.new_book"))
        error = gettext(REFUSALS[done.reason], **done.params)
    elif form["isbn"]:
        found = catalogue.book_of_isbn(ctx.store.reader, form["isbn"])
        if found:
            source = found.pop("source")
            form.update({k: v for k, v in found.items() if v and not form.get(k)})
    status = 400 if error else 200
    return render_template(
        "catalogue/new_book.html", op=op, form=form, error=error, source=source
    ), status
