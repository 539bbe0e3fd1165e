"""Class book corners (班级图书角): a box of books lent to a class for a longer period.

The class is the borrower and a teacher or helper is responsible: each book becomes a loan to the
responsible person, marked as the class's (corner_loans), due when the librarian says (by
default the last open day of term). Returning the box is scanning the books at the desk: plain
checkins. The lists: books out per class, and the recall list per class at term end.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from kiosk.circulation.collection import item as item_row
from kiosk.circulation.collection import on_loan
from kiosk.circulation.collection.commands import LendToCorner
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.rules import load_rules
from kiosk.circulation.store import Store, fetch
from kiosk.i18n import N_

MESSAGES = {
    "no_class": N_("Say which class borrows the books."),
    "no_responsible": N_("There is no teacher or helper {patron} to be responsible."),
    "no_books": N_("Scan the books of the box first."),
    "bad_due": N_("The due date must be after today."),
    "not_a_date": N_("The due date is not a date: write it as year-month-day, like 2026-06-30."),
    "due_too_far": N_(
        "The due date is more than two years ahead: choose {latest} or an earlier day."
    ),
    "not_available": N_("These books cannot be lent now: {barcodes}."),
    "drifting_in_box": N_(
        "These are drifting books: they pass from child to child and never go into a class "
        "corner: {barcodes}."
    ),
    "corner_lent": N_("Lent to {class_name}, due {due}; books: {count}."),
}
# A box stays in a class for a term or a school year; a due date further off is a typing slip.
YEARS_AHEAD = 2


def decide_lend(
    class_name: str,
    responsible: dict[str, Any] | None,
    books: dict[str, dict[str, Any] | None],
    due: str,
    due_at: str,
    today: str,
    batch: str,
    latest: str = "",
) -> list[Draft] | Refusal:
    """Lend a box of books to a class; every book must be on the shelf, known, not drifting."""
    if not class_name:
        return Refusal("no_class")
    if responsible is None or responsible["role"] == "student" or responsible["status"] != "active":
        return Refusal("no_responsible", {"patron": responsible["id"] if responsible else ""})
    if not books:
        return Refusal("no_books")
    if due <= today:
        return Refusal("bad_due")
    if latest and due > latest:
        return Refusal("due_too_far", {"latest": latest})
    bad = [code for code, item in books.items() if item is None or item["status"] != "available"]
    if bad:
        return Refusal("not_available", {"barcodes": " ".join(bad)})
    # A drifting book (图书漂流) has no due date and no borrower but the child who has it.
    adrift = [code for code, item in books.items() if item is not None and item.get("drifting")]
    if adrift:
        return Refusal("drifting_in_box", {"barcodes": " ".join(adrift)})
    items = [
        {"barcode": code, "loan_uuid": str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, batch + code))}
        for code in books
    ]
    data = {"batch": batch, "class_name": class_name, "due_at": due_at, "items": items}
    return [Draft("corner_lent", patron_id=responsible["id"], data=data)]


def latest_due(today: dt.date) -> dt.date:
    """Return the last day a corner loan may be due: two years ahead (a typo'd year is refused)."""
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def lend(
    store: Store,
    class_name: str,
    responsible: str,
    barcodes: list[str],
    due: dt.date,
    tz: ZoneInfo,
    actor: str,
) -> Outcome:
    """Lend a box of books to a class, due at the end of `due`, in one event."""
    codes = tuple(dict.fromkeys(b.strip() for b in barcodes if b.strip()))
    cmd = LendToCorner(class_name.strip(), responsible.strip(), codes, due, tz)
    return handle(store, cmd, actor=actor)


def shelf_item(db: Database, code: str) -> dict[str, Any] | None:
    """Return a book's row, its status `on_loan` while it has an open loan; None if unknown."""
    found = item_row(db, code)
    if found is not None and on_loan(db, code):
        found["status"] = "on_loan"
    return found


def term_end(db: Database) -> dt.date | None:
    """Return the end of term from the rules: the corner loans' default due date."""
    return load_rules(db).term_end


def out_per_class(db: Database) -> list[dict[str, Any]]:
    """Return per class the books out in its corner and the earliest due date."""
    return fetch(
        db,
        "SELECT c.class_name, count(*) AS books, min(l.due_at) AS due_at, "
        "group_concat(DISTINCT p.name) AS responsible FROM corner_loans c "
        "JOIN loans l ON l.uuid = c.loan_uuid JOIN patrons p ON p.id = l.patron_id "
        "WHERE l.returned_at IS NULL GROUP BY c.class_name ORDER BY c.class_name COLLATE school",
    )


def recall(db: Database, class_name: str = "") -> list[dict[str, Any]]:
    """Return the books still out in class corners (one class, or all), for the recall list."""
    return fetch(
        db,
        "SELECT c.class_name, l.item_barcode, i.title, i.call_number, l.due_at, p.name "
        "AS responsible FROM corner_loans c JOIN loans l ON l.uuid = c.loan_uuid "
        "JOIN items i ON i.barcode = l.item_barcode JOIN patrons p ON p.id = l.patron_id "
        "WHERE l.returned_at IS NULL AND (? = '' OR c.class_name = ?) "
        "ORDER BY c.class_name COLLATE school, i.call_number, l.item_barcode",
        [class_name, class_name],
    )


def term_recall(db: Database) -> list[dict[str, Any]]:
    """Return every book still out to a student or teacher, by class, for the term-end recall."""
    return fetch(
        db,
        "SELECT p.class_name, p.id AS patron_id, p.name, l.item_barcode, i.title, l.due_at "
        "FROM loans l JOIN patrons p ON p.id = l.patron_id "
        "JOIN items i ON i.barcode = l.item_barcode "
        "WHERE l.returned_at IS NULL AND l.uuid NOT IN (SELECT loan_uuid FROM corner_loans) "
        "ORDER BY p.class_name COLLATE school, p.name COLLATE pinyin, l.due_at",
    )
