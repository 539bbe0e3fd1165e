"""Loan read models used by the decisions' state readers."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.models import Loan
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


def last_desk_event(db: Database, actor: str) -> dict[str, Any] | None:
    """Return the actor's last checkout, checkin, renew or undo, with the item's title."""
    rows = fetch(
        db,
        "SELECT e.*, i.title FROM events e LEFT JOIN items i ON i.barcode = e.item_barcode "
        "WHERE e.actor = ? AND e.type IN ('checkout', 'checkin', 'renew', 'undo') "
        "ORDER BY e.seq DESC LIMIT 1",
        [actor],
    )
    if not rows:
        return None
    return {**rows[0], "data": json.loads(rows[0]["data"])}
