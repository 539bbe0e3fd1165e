"""Read models of the dashboard's record pages, the desk's search and the status counts.

The record lists (paged, searched) are kiosk/circulation/stats/search.py.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.store import Store, fetch


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


def items_by_type(db: Database) -> dict[str, int]:
    """Return how many items (withdrawn ones left out) each item type has."""
    rows = db.execute(
        "SELECT item_type, count(*) FROM items WHERE status != 'withdrawn' GROUP BY item_type"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


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


def desk_search(store: Store, q: str, limit: int = 20) -> dict[str, list[dict[str, Any]]]:
    """Find patrons with the dashboard's search (part of a name, class, card, pinyin initials),
    with whether each has a card to lend with (books are found by stats/find.py)."""
    from kiosk.circulation.stats import search  # the dashboard's lists, one search for both

    patrons = search.patrons(store, q).rows[:limit]
    db = store.reader
    carded = {
        r[0]
        for r in db.execute(
            "SELECT patron_id FROM cards WHERE status = 'active' "
            "AND patron_id IN (SELECT value FROM json_each(?))",
            [json.dumps([p["id"] for p in patrons])],
        )
    }
    return {
        "patrons": [
            {
                "id": p["id"],
                "name": p["name"],
                "class_name": p["class_name"],
                "status": p["status"],
                "card": p["id"] in carded,
                "loans": p["loans"],
            }
            for p in patrons
        ],
    }


def counts(db: Database, now: str) -> dict[str, int]:
    """Return the numbers of patrons, items, open loans and overdue loans."""
    row = db.execute(
        "SELECT (SELECT count(*) FROM patrons), (SELECT count(*) FROM items), "
        "(SELECT count(*) FROM loans WHERE returned_at IS NULL), "
        "(SELECT count(*) FROM loans WHERE returned_at IS NULL AND due_at < ?)",
        [now],
    ).fetchone()
    return dict(zip(("patrons", "items", "open_loans", "overdue_loans"), row, strict=True))
