"""Read models of book drifting (图书漂流): is a book drifting, who has it, how many hands."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from kiosk.circulation.store import fetch


def is_drifting(db: Database, barcode: str) -> bool:
    """Return whether a book drifts from child to child."""
    row = db.execute("SELECT drifting FROM items WHERE barcode = ?", [barcode]).fetchone()
    return bool(row and row[0])


def holder(db: Database, barcode: str) -> str | None:
    """Return the patron who has a drifting book now, or None."""
    row = db.execute(
        "SELECT patron_id FROM drift_hands WHERE item_barcode = ? AND ended_at IS NULL "
        "ORDER BY taken_at DESC LIMIT 1",
        [barcode],
    ).fetchone()
    return None if row is None else str(row[0])


def open_hand(db: Database, barcode: str) -> dict[str, Any] | None:
    """Return a drifting book's open hand (its uuid, the child), or None if nobody has it."""
    rows = fetch(
        db,
        "SELECT uuid, patron_id FROM drift_hands WHERE item_barcode = ? AND ended_at IS NULL "
        "ORDER BY taken_at DESC LIMIT 1",
        [barcode],
    )
    return rows[0] if rows else None


def drift_of(db: Database, barcode: str) -> dict[str, Any]:
    """Return a book's drift as its page shows it: who has it now (name, class) and its hands."""
    rows = fetch(
        db,
        "SELECT (SELECT COUNT(*) FROM drift_hands h WHERE h.item_barcode = ?) AS hands, "
        "p.id AS patron_id, p.name, p.class_name, h.taken_at FROM (SELECT 1) "
        "LEFT JOIN drift_hands h ON h.item_barcode = ? AND h.ended_at IS NULL "
        "LEFT JOIN patrons p ON p.id = h.patron_id",
        [barcode, barcode],
    )
    return rows[0]


def drifting_with(db: Database, patron_id: str) -> list[dict[str, Any]]:
    """Return the drifting books a child has now, with their titles."""
    return fetch(
        db,
        "SELECT h.item_barcode, i.title, h.taken_at FROM drift_hands h "
        "JOIN items i ON i.barcode = h.item_barcode "
        "WHERE h.patron_id = ? AND h.ended_at IS NULL ORDER BY h.taken_at",
        [patron_id],
    )
