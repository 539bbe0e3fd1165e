"""Read models of the dashboard's record pages, the desk's search and the status counts.

The record lists (paged, searched) are kiosk/circulation/stats/search.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.commands import Copy
from kiosk.circulation.models import StoredRows
from kiosk.circulation.store import Store, fetch
from kiosk.codes import canonical_card


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


# The books an item type counts: the page's Books column and the removal's "in use" agree.
IN_COLLECTION = "status != 'withdrawn'"


def items_by_type(db: Database) -> dict[str, int]:
    """Return how many items (withdrawn ones left out) each item type has."""
    rows = db.execute(
        f"SELECT item_type, count(*) FROM items WHERE {IN_COLLECTION} GROUP BY item_type"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def books_of_type(db: Database, key: str) -> int:
    """Return how many items (withdrawn ones left out) have this item type."""
    sql = f"SELECT count(*) FROM items WHERE item_type = ? AND {IN_COLLECTION}"
    return int(db.execute(sql, [key]).fetchone()[0])


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


# Where each copied type's stored row is read, and the column that is its key.
COPIED_FROM = {
    "patron_saved": "SELECT * FROM patrons WHERE id IN ({marks})",
    "item_saved": "SELECT * FROM items WHERE barcode IN ({marks})",
    "card_saved": "SELECT code, patron_id, status FROM cards WHERE code IN ({marks})",
    "marc_record_saved": "SELECT * FROM marc_records WHERE isbn IN ({marks})",
    "loan_synced": (
        "SELECT item_barcode, uuid, patron_id, due_at, renewals, count(*) OVER "
        "(PARTITION BY item_barcode) AS open FROM loans "
        "WHERE returned_at IS NULL AND item_barcode IN ({marks})"
    ),
}
COPY_KEYS = {
    "patron_saved": "id",
    "item_saved": "barcode",
    "card_saved": "code",
    "marc_record_saved": "isbn",
    "loan_synced": "item_barcode",
}
KEYS_AT = 500  # keys a statement reads at a time (SQLite takes up to 32,766 parameters)


def stored_rows(db: Database, copies: Iterable[Copy]) -> StoredRows:
    """Return the rows these copies would change as the store has them, a few statements a batch.

    Also every card of the copied patrons and every holder of their copied cards (a card an
    import gives a patron may be another's now).
    """
    keys: dict[str, list[str]] = {}
    for copy in copies:
        if copy.type in COPIED_FROM:
            key = canonical_card(copy.key) if copy.type == "card_saved" else copy.key
            keys.setdefault(copy.type, []).append(key)
        if copy.cards:
            keys.setdefault("card_saved", []).extend(canonical_card(c) for c in copy.cards)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, wanted in keys.items():
        for row in _in(db, COPIED_FROM[kind], list(dict.fromkeys(wanted))):
            rows[(kind, str(row[COPY_KEYS[kind]]))] = row
    cards: dict[str, set[str]] = {}
    sql = "SELECT patron_id, code FROM cards WHERE patron_id IN ({marks})"
    for row in _in(db, sql, list(dict.fromkeys(keys.get("patron_saved", ())))):
        cards.setdefault(row["patron_id"], set()).add(row["code"])
    for (kind, code), row in rows.items():
        if kind == "card_saved":
            cards.setdefault(row["patron_id"], set()).add(code)
    return StoredRows(rows, cards)


def _in(db: Database, sql: str, keys: list[str]) -> Iterator[dict[str, Any]]:
    """Yield the rows a `... IN ({marks})` statement finds for these keys, some at a time."""
    for start in range(0, len(keys), KEYS_AT):
        part = keys[start : start + KEYS_AT]
        yield from fetch(db, sql.format(marks=", ".join("?" * len(part))), part)
