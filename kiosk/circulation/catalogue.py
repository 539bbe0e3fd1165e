"""What the printed cards and labels show: named queries, and cards issued to who has none.

Printed library cards carry a Code 128 barcode of the card number. New numbers are `L` and eight
digits (`L00000042`): never 8 or 10 hex digits or 10 digits, so never mistaken for an RFID card's
UID or the decimal printed on one (see kiosk.circulation.cards).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.commands import CatalogueBook, Copy
from kiosk.circulation.decide import NEW_BOOK_FIELDS as NEW_BOOK_FIELDS

# The new book decision, as the donations and the desk page know it here.
from kiosk.circulation.decide import new_book as decide_new_book  # noqa: F401
from kiosk.circulation.events import Refusal
from kiosk.circulation.handler import handle
from kiosk.circulation.records import issue_card
from kiosk.circulation.store import Event, Store, fetch
from kiosk.codes import normal_isbn

RECORD_FIELDS = ("isbn", "title", "author", "call_number")
CARD_PREFIX = "L"
_CARD_NUMBER = re.compile(rf"{CARD_PREFIX}([0-9]{{8}})")


def classes(db: Database) -> list[dict[str, Any]]:
    """Return each class with its number of active patrons and of those without a card.

    Everyone of the class borrows with a card: students, helpers and teachers alike.
    """
    return fetch(
        db,
        "SELECT p.class_name, count(*) AS students, "
        "sum(NOT EXISTS (SELECT 1 FROM cards c WHERE c.patron_id = p.id AND c.status = 'active'))"
        " AS without_card "
        "FROM patrons p WHERE p.status = 'active' AND p.class_name != '' "
        "GROUP BY p.class_name ORDER BY p.grade, p.class_name",
    )


def students_without_card(db: Database, class_name: str) -> list[dict[str, Any]]:
    """Return the active patrons of a class (any role) who have no active card, by name."""
    return fetch(
        db,
        "SELECT id, name FROM patrons p WHERE p.class_name = ? AND p.status = 'active' "
        "AND NOT EXISTS "
        "(SELECT 1 FROM cards c WHERE c.patron_id = p.id AND c.status = 'active') "
        "ORDER BY p.name, p.id",
        [class_name],
    )


def next_card_codes(db: Database, count: int) -> list[str]:
    """Return `count` unused card numbers after the highest one printed so far."""
    rows = db.execute("SELECT code FROM cards WHERE code GLOB ?", [CARD_PREFIX + "[0-9]*"])
    numbers = [int(m.group(1)) for (code,) in rows if (m := _CARD_NUMBER.fullmatch(code))]
    start = max(numbers, default=0) + 1
    return [f"{CARD_PREFIX}{n:08d}" for n in range(start, start + count)]


def issue_missing_cards(store: Store, class_name: str, actor: str) -> list[dict[str, Any]]:
    """Issue a printed card to everyone of the class without one; return who got which."""
    issued = []
    for student in students_without_card(store.reader, class_name):
        # One card, one event (card_issued), as the desk issues them; numbers read fresh each time
        # so a card issued meanwhile elsewhere is not given twice.
        with store.write() as db:
            code = next_card_codes(db, 1)[0]
            done = issue_card(store, student["id"], code, actor)
        if not isinstance(done, Refusal):  # refused: the student was given a card meanwhile
            issued.append({**student, "code": code})
    return issued


def class_cards(db: Database, class_name: str) -> list[dict[str, Any]]:
    """Return the cards to print for a class: each active patron's newest active card.

    Helpers and teachers of the class are on the sheet too: they borrow with a card like anyone.
    """
    return fetch(
        db,
        "SELECT p.id AS patron_id, p.name, p.class_name, c.code FROM patrons p "
        "JOIN cards c ON c.code = (SELECT code FROM cards WHERE patron_id = p.id "
        "AND status = 'active' ORDER BY created_at DESC, code DESC LIMIT 1) "
        "WHERE p.class_name = ? AND p.status = 'active' "
        "ORDER BY p.name, p.id",
        [class_name],
    )


def label_items(
    db: Database, barcodes: Iterable[str] = (), since: str | None = None
) -> list[dict[str, Any]]:
    """Return the items to label: the chosen barcodes in their order, or those added since a day.

    `items.added_at` (m006) is when a book first came into the store, whoever wrote it.
    """
    wanted = [b for b in dict.fromkeys(barcodes) if b]
    if wanted:
        marks = ", ".join("?" * len(wanted))
        rows = fetch(
            db,
            f"SELECT barcode, title, author, call_number FROM items WHERE barcode IN ({marks})",
            wanted,
        )
        by_code = {r["barcode"]: r for r in rows}
        return [by_code[b] for b in wanted if b in by_code]
    if since:
        return fetch(
            db,
            "SELECT barcode, title, author, call_number FROM items "
            "WHERE added_at >= ? ORDER BY call_number, barcode",
            [since],
        )
    return []


def record_copy(row: Mapping[str, Any], source: str) -> Copy:
    """Return a MARC record an import brings (kept for the desk, by ISBN) as a copy to save."""
    record = {k: row.get(k, "") for k in RECORD_FIELDS}
    return Copy("marc_record_saved", record["isbn"], {**record, "source": source})


def catalogue_new_book(store: Store, fields: dict[str, str], actor: str) -> Event | Refusal:
    """Put a new book on the shelf under its new barcode label (an `item_catalogued` event)."""
    done = handle(store, CatalogueBook(dict(fields), actor))  # decide.catalogue_book decides
    return done.refusal if done.refusal is not None else done.event


def book_of_isbn(db: Database, isbn: str) -> dict[str, Any] | None:
    """Return what is known of an ISBN: a copy on the shelf first, else a loaded MARC record."""
    keys = [k for k in dict.fromkeys((normal_isbn(isbn), isbn.strip())) if k]
    marks = ", ".join("?" * len(keys))
    rows = fetch(
        db,
        "SELECT isbn, title, author, call_number, 'shelf' AS source FROM items "
        f"WHERE isbn IN ({marks}) ORDER BY updated_at DESC LIMIT 1",
        keys,
    ) or fetch(
        db,
        "SELECT isbn, title, author, call_number, 'marc' AS source FROM marc_records "
        f"WHERE isbn IN ({marks})",
        keys,
    )
    return rows[0] if rows else None
