"""Read models of the dashboard's record pages, the desk's search and the status counts.

The record lists (paged, searched) are kiosk/circulation/stats/search.py.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from kiosk.circulation.store import fetch


def patron_row(db: Database, patron_id: str) -> dict[str, Any] | None:
    """Return a patron's row, or None."""
    rows = fetch(db, "SELECT * FROM patrons WHERE id = ?", [patron_id])
    return rows[0] if rows else None


def cards_of(db: Database, patron_id: str) -> list[dict[str, Any]]:
    """Return a patron's cards, oldest first."""
    return fetch(db, "SELECT * FROM cards WHERE patron_id = ? ORDER BY created_at", [patron_id])


def item_row(db: Database, barcode: str) -> dict[str, Any] | None:
    """Return an item's row, or None."""
    rows = fetch(db, "SELECT * FROM items WHERE barcode = ?", [barcode])
    return rows[0] if rows else None


def loans_of_item(
    db: Database, barcode: str, limit: int = 20, offset: int = 0
) -> list[dict[str, Any]]:
    """Return an item's loans, latest first, with the borrower's name and class."""
    return fetch(
        db,
        "SELECT l.*, p.name, p.class_name FROM loans l JOIN patrons p ON p.id = l.patron_id "
        "WHERE l.item_barcode = ? ORDER BY l.id DESC LIMIT ? OFFSET ?",
        [barcode, limit, offset],
    )


def desk_search(db: Database, q: str) -> dict[str, list[dict[str, Any]]]:
    """Find patrons: name, class, a card to lend with (books are found by stats/find.py)."""
    pattern = f"%{q}%"
    patrons = fetch(
        db,
        "SELECT p.id, p.name, p.class_name, p.status, "
        "(SELECT code FROM cards c WHERE c.patron_id = p.id AND c.status = 'active' LIMIT 1) "
        "AS card, (SELECT count(*) FROM loans l WHERE l.patron_id = p.id "
        "AND l.returned_at IS NULL) AS loans FROM patrons p "
        "WHERE p.name LIKE ? OR p.id = ? OR p.class_name = ? "
        "ORDER BY p.class_name, p.name LIMIT 20",
        [pattern, q, q],
    )
    return {"patrons": patrons}


def counts(db: Database, now: str) -> dict[str, int]:
    """Return the numbers of patrons, items, open loans and overdue loans."""
    row = db.execute(
        "SELECT (SELECT count(*) FROM patrons), (SELECT count(*) FROM items), "
        "(SELECT count(*) FROM loans WHERE returned_at IS NULL), "
        "(SELECT count(*) FROM loans WHERE returned_at IS NULL AND due_at < ?)",
        [now],
    ).fetchone()
    return dict(zip(("patrons", "items", "open_loans", "overdue_loans"), row, strict=True))
