"""Donated books (捐书): a donation's donor, day and books; the donations list, the thank-you
certificates and the year report's counts.

A donor is a child (a patron), a class, a parent or an organisation. The books are copies already
in the catalogue (their barcodes scanned) or new books catalogued on the spot, as the desk
catalogues them (`catalogue.decide_new_book`, an `item_catalogued` event each). Each donated copy
then carries its donor's name in the catalogue (`items.donor`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.catalogue import decide_new_book
from kiosk.circulation.collection import one
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.reading.commands import RecordDonation
from kiosk.circulation.store import Store, fetch
from kiosk.i18n import N_

KINDS = {
    "child": N_("A child"),
    "class": N_("A class"),
    "parent": N_("A parent"),
    "organisation": N_("An organisation"),
}
MOST_BOOKS = 200
LONGEST_NAME = 100
MESSAGES = {
    "bad_kind": N_("Choose who gave the books: a child, a class, a parent or an organisation."),
    "no_patron": N_("Pick the child from the list (a name, a number or a card)."),
    "unknown_class": N_("Choose the class from the list of the school's classes."),
    "no_name": N_("Type the donor's name."),
    "name_too_long": N_("The donor's name is longer than {limit} characters."),
    "bad_date": N_("{value} is not a date: write it as 2026-11-02."),
    "future_date": N_("The date {value} has not come yet."),
    "no_books": N_("Scan at least one book, or add a new one with its title."),
    "too_many": N_("At most {most} books in one donation."),
    "unknown_barcode": N_("No book in the catalogue has the barcode {barcode}."),
    "twice": N_("The barcode {barcode} is in this donation twice."),
    "already_donated": N_("{title} ({barcode}) is already recorded as donated by {donor}."),
    # A new book's refusals, as the desk's new-book page says them (catalogue.decide_new_book).
    "barcode_needed": N_("Scan the new barcode label."),
    "bad_barcode": N_("The barcode {barcode} has a blank or a control character in it."),
    "barcode_taken": N_("The barcode {barcode} is already on a book: {title}. Use a new label."),
    "title_needed": N_("Type the title."),
    "too_long": N_("{field} is longer than {limit} characters."),
}


@dataclass(frozen=True)
class DonationForm:
    """What the librarian typed: the donor, the day, the copies scanned and the new books."""

    kind: str
    name: str = ""  # a parent's or an organisation's name
    patron_id: str = ""  # a child, picked from the patrons
    class_name: str = ""  # a class
    day: str = ""  # YYYY-MM-DD
    barcodes: tuple[str, ...] = ()  # copies already catalogued
    new_books: tuple[Mapping[str, str], ...] = ()  # barcode, title, isbn, author


@dataclass(frozen=True)
class DonationState:
    """What the decision reads: the child, the classes, the scanned copies, new labels in use."""

    patron: Mapping[str, Any] | None
    classes: frozenset[str]
    copies: Mapping[str, Mapping[str, Any]]  # barcode -> items row (title, donor) of those found
    labels_taken: Mapping[str, str]  # a new book's barcode -> the title already on it


def decide_donation(
    donation_id: str, form: DonationForm, state: DonationState, today: dt.date
) -> list[Draft] | Refusal:
    """Record a donation: its new books catalogued, then the donation with every copy."""
    donor = _donor(form, state)
    if isinstance(donor, Refusal):
        return donor
    try:
        day = dt.date.fromisoformat(form.day.strip())
    except ValueError:
        return Refusal("bad_date", {"value": form.day.strip() or "-"})
    if day > today:
        return Refusal("future_date", {"value": day.isoformat()})
    scanned = [b.strip() for b in form.barcodes if b.strip()]
    news = [b for b in form.new_books if any(str(v).strip() for v in b.values())]
    if not scanned and not news:
        return Refusal("no_books")
    if len(scanned) + len(news) > MOST_BOOKS:
        return Refusal("too_many", {"most": MOST_BOOKS})
    books: list[dict[str, str]] = []
    drafts: list[Draft] = []
    for barcode in scanned:
        copy = state.copies.get(barcode)
        if copy is None:
            return Refusal("unknown_barcode", {"barcode": barcode})
        if copy.get("donor"):
            return Refusal(
                "already_donated",
                {"title": copy["title"], "barcode": barcode, "donor": copy["donor"]},
            )
        books.append({"barcode": barcode, "title": str(copy["title"])})
    for fields in news:
        label = str(fields.get("barcode", "")).strip()
        book = decide_new_book(dict(fields), state.labels_taken.get(label))
        if isinstance(book, Refusal):
            return book
        fields_kept = {k: v for k, v in book.items() if k != "barcode"}
        drafts.append(Draft("item_catalogued", item_barcode=book["barcode"], data=fields_kept))
        books.append({"barcode": book["barcode"], "title": book["title"]})
    seen: set[str] = set()
    for b in books:
        if b["barcode"] in seen:
            return Refusal("twice", {"barcode": b["barcode"]})
        seen.add(b["barcode"])
    data = {
        "donation": donation_id,
        **donor,
        "donated_on": day.isoformat(),
        "books": books,
    }
    patron_id = donor["patron_id"] or None
    drafts.append(Draft("donation_recorded", patron_id=patron_id, data=data))
    return drafts


def _donor(form: DonationForm, state: DonationState) -> dict[str, str] | Refusal:
    """Return the donor's kind, name, patron and class, or why the form does not say one."""
    if form.kind not in KINDS:
        return Refusal("bad_kind")
    if form.kind == "child":
        p = state.patron
        if p is None:
            return Refusal("no_patron")
        return {
            "donor_kind": "child",
            "donor_name": str(p["name"]),
            "patron_id": str(p["id"]),
            "class_name": str(p.get("class_name") or ""),
        }
    if form.kind == "class":
        name = form.class_name.strip()
        if name not in state.classes:
            return Refusal("unknown_class")
        return {"donor_kind": "class", "donor_name": name, "patron_id": "", "class_name": name}
    name = " ".join(form.name.split())
    if not name:
        return Refusal("no_name")
    if len(name) > LONGEST_NAME:
        return Refusal("name_too_long", {"limit": LONGEST_NAME})
    return {"donor_kind": form.kind, "donor_name": name, "patron_id": "", "class_name": ""}


def record_donation(store: Store, form: DonationForm, today: dt.date, actor: str) -> Outcome:
    """Record a donation in one transaction: all of it, or nothing and the reason."""
    return handle(store, RecordDonation(form, today), actor=actor)


# Named queries.


def state_of(db: Database, form: DonationForm) -> DonationState:
    """Read what a donation's decision needs: the child, the classes, the copies, the labels."""
    patron = None
    if form.kind == "child" and form.patron_id:
        patron = one(db, "SELECT id, name, class_name FROM patrons WHERE id = ?", [form.patron_id])
    labels = [str(b.get("barcode", "")).strip() for b in form.new_books]
    return DonationState(
        patron=patron,
        classes=frozenset(class_names(db)),
        copies=_copies(db, [b.strip() for b in form.barcodes if b.strip()]),
        labels_taken={r["barcode"]: r["title"] for r in _copies(db, labels).values()},
    )


def _copies(db: Database, barcodes: Sequence[str]) -> dict[str, dict[str, Any]]:
    wanted = [b for b in dict.fromkeys(barcodes) if b]
    if not wanted:
        return {}
    rows = fetch(
        db,
        "SELECT barcode, title, donor FROM items WHERE barcode IN (SELECT value FROM json_each(?))",
        [_json(wanted)],
    )
    return {r["barcode"]: r for r in rows}


def _json(values: Sequence[str]) -> str:
    import json

    return json.dumps(list(values), ensure_ascii=False)


def class_names(db: Database) -> list[str]:
    """Return the school's classes (of active patrons), in school order."""
    rows = fetch(
        db,
        "SELECT DISTINCT class_name FROM patrons WHERE status = 'active' AND class_name != '' "
        "ORDER BY class_name COLLATE school",
    )
    return [r["class_name"] for r in rows]


def donations(db: Database, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """Return donations, newest day first, each with its number of books."""
    return fetch(
        db,
        "SELECT d.*, (SELECT COUNT(*) FROM donation_books b WHERE b.donation_id = d.id) AS books "
        "FROM donations d ORDER BY d.donated_on DESC, d.recorded_at DESC LIMIT ? OFFSET ?",
        [limit, offset],
    )


def donation_count(db: Database) -> int:
    """Return how many donations are recorded."""
    return int(db.execute("SELECT COUNT(*) FROM donations").fetchone()[0])


def get_donation(db: Database, donation_id: str) -> dict[str, Any] | None:
    """Return one donation's row."""
    return one(db, "SELECT * FROM donations WHERE id = ?", [donation_id])


def books_of(db: Database, donation_id: str) -> list[dict[str, Any]]:
    """Return a donation's books in the order given."""
    return fetch(
        db,
        "SELECT item_barcode AS barcode, title FROM donation_books WHERE donation_id = ? "
        "ORDER BY rowid",
        [donation_id],
    )


# A donor is the same donor across donations: the child, the class, or the name of the kind.
DONOR_KEY = (
    "CASE d.donor_kind WHEN 'child' THEN 'child:' || d.patron_id "
    "ELSE d.donor_kind || ':' || d.donor_name END"
)


def certificates(
    db: Database, first: str, last: str, donation_id: str = ""
) -> list[dict[str, Any]]:
    """Return one entry per donor of the days first..last (or of one donation): the donor's
    name, kind and class, the number of books, their titles and the last day they gave."""
    where, params = (
        ("d.id = ?", [donation_id])
        if donation_id
        else ("d.donated_on BETWEEN ? AND ?", [first, last])
    )
    rows = fetch(
        db,
        f"SELECT {DONOR_KEY} AS donor, d.donor_kind, d.donor_name, d.class_name, "
        "d.donated_on, b.title FROM donations d JOIN donation_books b ON b.donation_id = d.id "
        f"WHERE {where} ORDER BY d.class_name COLLATE school, d.donor_name, d.donated_on, b.rowid",
        params,
    )
    donors: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = donors.setdefault(
            r["donor"],
            {
                "kind": r["donor_kind"],
                "name": r["donor_name"],
                "class_name": r["class_name"],
                "titles": [],
                "day": r["donated_on"],
            },
        )
        entry["titles"].append(r["title"])
        entry["day"] = max(entry["day"], r["donated_on"])
    return list(donors.values())
