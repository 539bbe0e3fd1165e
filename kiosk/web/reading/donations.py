"""Donated books and book drifting on the dashboard (`/admin/donations`), behind its login.

Views are thin: a donation is one command of `kiosk.circulation.reading.donations`, whose refusal
is shown in the reader's language with the form as it was typed (nothing recorded); letting a
book drift is the circulation service's `set_drifting`. Thank-you certificates print one donor a
page, A4 or A5, in Chinese first.
"""

from __future__ import annotations

import datetime as dt
from itertools import zip_longest
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from kiosk.circulation import cards
from kiosk.circulation.dashboard import local_today
from kiosk.circulation.reading import donations
from kiosk.circulation.service import MESSAGES as LOAN_MESSAGES
from kiosk.circulation.stats import school_year_of, search
from kiosk.i18n import N_, N_plural, translate
from kiosk.web import gettext, web
from kiosk.web.admin import actor, page_number

# Nested in the reading area's blueprint: /admin/donations, endpoints `reading.donations.*`.
bp = Blueprint("donations", __name__, url_prefix="/donations")
PER_PAGE = 30
NEW_ROWS = 3  # rows for new books on the form
SIZES = ("A4", "A5")
RECORDED = N_plural(
    "Donation recorded: {count} book from {donor}.",
    "Donation recorded: {count} books from {donor}.",
)
# A drifting book's hands, on its page (templates/admin/item.html).
HANDS = N_plural("It has passed through {count} hand.", "It has passed through {count} hands.")
DRIFT_DONE = {True: N_("The book drifts now."), False: N_("The book is back on its shelf.")}
# The certificate's words; each is printed in Chinese, then in English.
CERTIFICATE = {
    "heading": N_("Thank you"),
    "gave": N_plural(
        "{name} gave {count} book to the library of {school}:",
        "{name} gave {count} books to the library of {school}:",
    ),
    "wish": N_(
        "Your books will be read by many children. Thank you for sharing the joy of reading!"
    ),
    "from": N_("The library of {school}"),
}
OURS = N_("our school")


def _tz() -> ZoneInfo:
    return ZoneInfo(web().settings.kiosk.timezone)


def _form() -> donations.DonationForm:
    """Read the donation form: the donor, the day, the copies scanned and the new books."""
    f = request.form
    new_books = tuple(
        {"barcode": b, "title": t, "isbn": i, "author": a}
        for b, t, i, a in zip_longest(
            f.getlist("new_barcode"),
            f.getlist("new_title"),
            f.getlist("new_isbn"),
            f.getlist("new_author"),
            fillvalue="",
        )
    )
    return donations.DonationForm(
        kind=f.get("kind", ""),
        name=f.get("name", ""),
        patron_id=_child(f.get("kind", ""), f.get("child", "")),
        class_name=f.get("class_name", ""),
        day=f.get("day", ""),
        barcodes=tuple(f.get("barcodes", "").split()),
        new_books=new_books,
    )


def _child(kind: str, text: str) -> str:
    """Return the child a name field means (a name picked from the list, a number or a card)."""
    text = text.strip()
    if kind != "child" or not text:
        return ""
    store = web().store
    card = cards.find(store.reader, text)
    if card is not None:
        return str(card[1])
    found = search.pick_patron(store, text)
    return str(found[0]["id"]) if len(found) == 1 else ""


def _page(form: Any = None, status: int = 200) -> Any:
    ctx = web()
    db = ctx.store.reader
    total = donations.donation_count(db)
    page = min(page_number(), max(1, -(-total // PER_PAGE)))
    rows = donations.donations(db, PER_PAGE, (page - 1) * PER_PAGE)
    found = search.Page(rows, total, page, PER_PAGE)
    today = local_today(ctx.store, _tz())
    year = school_year_of(today)
    page_html = render_template(
        "donations/index.html",
        rows=rows,
        found=found,
        form=form or {},
        kinds=donations.KINDS,
        classes=donations.class_names(db),
        today=today.isoformat(),
        year=year,
        new_rows=range(NEW_ROWS),
    )
    return page_html, status


@bp.get("/")
def index() -> Any:
    """Show the donations, newest first, a page at a time, and the form for a new one."""
    return _page()


@bp.post("/")
def record() -> Any:
    """Record a donation: all its books, or nothing and why (the form keeps what was typed)."""
    ctx = web()
    form = _form()
    outcome = donations.record_donation(ctx.store, form, local_today(ctx.store, _tz()), actor())
    if outcome.refusal is not None:
        flash(gettext(donations.MESSAGES[outcome.reason], **outcome.refusal.params), "error")
        return _page(request.form, 400)
    data = outcome.events[-1].data
    flash(gettext(RECORDED, count=len(data["books"]), donor=data["donor_name"]))
    return redirect(url_for("reading.donations.index"))


@bp.get("/certificates")
def certificates() -> str:
    """Print a thank-you certificate per donor (A4 or A5), one donor a page, Chinese first."""
    ctx = web()
    year = school_year_of(local_today(ctx.store, _tz()))
    a = request.args
    first, last = (
        a.get("from", "") or year.first.isoformat(),
        a.get("to", "") or year.last.isoformat(),
    )
    for day in (first, last):
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            abort(400, description=gettext(donations.MESSAGES["bad_date"], value=day))
    size = a.get("size", "A4") if a.get("size") in SIZES else "A4"
    school = ctx.settings.kiosk.school
    donors = donations.certificates(ctx.store.reader, first, last, a.get("donation", ""))
    pages = [_certificate(d, school) for d in donors]
    return render_template("donations/certificates.html", pages=pages, size=size)


def _certificate(donor: dict[str, Any], school: str) -> dict[str, Any]:
    """Return a certificate's lines in Chinese and in English."""
    count = len(donor["titles"])

    def both(key: str, **params: Any) -> tuple[str, str]:
        # Without a school name in the config, "our school" in each language.
        return tuple(  # type: ignore[return-value]
            translate(CERTIFICATE[key], lang, **params, school=school or translate(OURS, lang))
            for lang in ("zh_CN", "en")
        )

    return {
        **donor,
        "count": count,
        "heading": both("heading"),
        "gave": both("gave", name=donor["name"], count=count),
        "wish": both("wish"),
        "from": both("from"),
    }


@bp.post("/drifting")
def drifting() -> Any:
    """Let a book drift (图书漂流), or bring it back to its shelf."""
    barcode = request.form.get("barcode", "").strip()
    on = request.form.get("drifting") == "1"
    result = web().circulation.set_drifting(barcode, on, actor())
    if result.ok:
        flash(gettext(DRIFT_DONE[on]))
    else:
        flash(gettext(LOAN_MESSAGES[result.reason], **result.params), "error")
    back = request.form.get("next", "")
    return redirect(back if back.startswith("/admin/") else url_for("admin.items"))
