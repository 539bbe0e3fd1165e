"""Loan read models used by the decisions' state readers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from kiosk.circulation import cards as card_forms

# Columns in the order the models take them (models.*_FIELDS), so one row can be cut into a
# patron, an item and a loan without a second read.
from kiosk.circulation.models import ITEM_FIELDS, LOAN_FIELDS, PATRON_FIELDS, Item, Loan, Patron
from kiosk.circulation.store import fetch


def open_loans_due(db: Database, patron_id: str) -> list[dict[str, Any]]:
    """Return the due_at and item type of each of a patron's open loans (partial index)."""
    return fetch(
        db,
        "SELECT due_at, COALESCE(items.item_type, 'book') AS item_type FROM loans "
        "LEFT JOIN items ON items.barcode = loans.item_barcode "
        "WHERE patron_id = ? AND returned_at IS NULL",
        [patron_id],
    )


def loan_by_uuid(db: Database, uuid: str | None) -> Loan | None:
    """Return a loan by its UUID (the UUID of the checkout that made it)."""
    rows = fetch(db, "SELECT * FROM loans WHERE uuid = ?", [uuid])
    return Loan.from_row(rows[0]) if rows else None


def event_logged(db: Database, uuid: str) -> bool:
    """Return whether the event log holds an event with this UUID."""
    return db.conn.execute("SELECT 1 FROM events WHERE uuid = ?", [uuid]).fetchone() is not None


def last_desk_event(db: Database, actor: str) -> dict[str, Any] | None:
    """Return the actor's last checkout, checkin, renew, drift taken or ended, or undo, with the
    item's title."""
    rows = fetch(
        db,
        "SELECT e.*, i.title FROM events e LEFT JOIN items i ON i.barcode = e.item_barcode "
        "WHERE e.actor = ? AND e.type IN ('checkout', 'checkin', 'renew', 'undo', "
        "'drift_taken', 'drift_ended') "
        "ORDER BY e.seq DESC LIMIT 1",
        [actor],
    )
    if not rows:
        return None
    return {**rows[0], "data": json.loads(rows[0]["data"])}


def _cols(alias: str, columns: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{c}" for c in columns)


ITEM_AND_LOAN_SQL = (
    f"SELECT {_cols('i', ITEM_FIELDS)}, {_cols('l', LOAN_FIELDS)}, i.drifting FROM items i "
    "LEFT JOIN loans l ON l.item_barcode = i.barcode AND l.returned_at IS NULL "
    "WHERE i.barcode = ?"
)
# Everything a loan decision reads, in one statement: the rules' version (the rules themselves
# are kept until it moves), the due dates of the patron's open loans (checkout only), whether
# the item drifts (then it is taken or handed in, not lent: service.py), the item,
# its open loan, and the patron: the one named, else the loan's (whose return it is).
LOAN_STATE_SQL = (
    "SELECT (SELECT n FROM rules_version), {due}, coalesce(i.drifting, 0), "
    f"{_cols('i', ITEM_FIELDS)}, {_cols('l', LOAN_FIELDS)}, {_cols('p', PATRON_FIELDS)} "
    "FROM (SELECT 1) LEFT JOIN items i ON i.barcode = :barcode "
    "LEFT JOIN loans l ON l.item_barcode = i.barcode AND l.returned_at IS NULL "
    "LEFT JOIN patrons p ON p.id = coalesce(:patron, l.patron_id)"
)
# Each open loan of the patron as [due_at, its book's item type] (a type has its own limit).
PATRON_DUE_SQL = (
    "(SELECT json_group_array(json_array(pl.due_at, coalesce(pi.item_type, 'book'))) "
    "FROM loans pl LEFT JOIN items pi ON pi.barcode = pl.item_barcode "
    "WHERE pl.patron_id = :patron AND pl.returned_at IS NULL)"
)


@dataclass(frozen=True)
class LoanRead:
    """What one read found for a loan decision (None where there is no such row)."""

    rules_version: int
    item: Item | None
    loan: Loan | None
    patron: Patron | None  # the patron asked for, or with none asked, the loan's patron
    patron_due: list[str]
    drifting: bool = False
    patron_types: list[str] = field(default_factory=list)  # the item type of each, in order


def _split(row: tuple[Any, ...], start: int) -> tuple[Item | None, Loan | None, int]:
    """Cut an item and its open loan out of a row, from column `start`; return the next column."""
    i_end = start + len(ITEM_FIELDS)
    l_end = i_end + len(LOAN_FIELDS)
    item = Item(*row[start:i_end]) if row[start] is not None else None
    loan = Loan(*row[i_end:l_end]) if row[i_end] is not None else None
    return item, loan, l_end


# A scanned code as a card with exactly this code (any case of a UID), else as a book with its
# open loan: what `identify` asks first, in one statement.
CARD_OR_ITEM_SQL = (
    "SELECT c.code, c.patron_id, c.status, "
    f"{_cols('i', ITEM_FIELDS)}, {_cols('l', LOAN_FIELDS)}, i.drifting "
    "FROM (SELECT 1) LEFT JOIN (SELECT code, patron_id, status FROM cards "
    "WHERE code IN (:canonical, :code) ORDER BY code = :canonical DESC LIMIT 1) c "
    "LEFT JOIN items i ON c.code IS NULL AND i.barcode = :code "
    "LEFT JOIN loans l ON l.item_barcode = i.barcode AND l.returned_at IS NULL"
)


def card_or_item(
    db: Database, code: str
) -> tuple[tuple[Any, ...] | None, Item | None, Loan | None, bool]:
    """Return the card with exactly this code (code, patron_id, status), or else the book with
    this barcode, its open loan and whether it drifts; in one read."""
    row = db.execute(
        CARD_OR_ITEM_SQL, {"canonical": card_forms.canonical(code), "code": code}
    ).fetchone()
    if row[0] is not None:
        return tuple(row[:3]), None, None, False
    item, loan, at = _split(row, 3)
    return None, item, loan, bool(item is not None and row[at])


def item_and_open_loan(db: Database, barcode: str) -> tuple[Item | None, Loan | None, bool]:
    """Return an item by barcode, its open loan and whether it drifts, in one read."""
    row = db.execute(ITEM_AND_LOAN_SQL, [barcode]).fetchone()
    if row is None:
        return None, None, False
    item, loan, at = _split(row, 0)
    return item, loan, bool(row[at])


def loan_state(
    db: Database, patron_id: str | None, barcode: str, with_patron_due: bool = False
) -> LoanRead:
    """Read what a checkout, return or renewal decides on, in one statement."""
    sql = LOAN_STATE_SQL.format(due=PATRON_DUE_SQL if with_patron_due else "'[]'")
    row = db.execute(sql, {"patron": patron_id, "barcode": barcode}).fetchone()
    item, loan, at = _split(row, 3)
    patron = Patron(*row[at:]) if row[at] is not None else None
    held = json.loads(row[1])
    due, types = [h[0] for h in held], [h[1] for h in held]
    return LoanRead(int(row[0]), item, loan, patron, due, bool(row[2]), types)
