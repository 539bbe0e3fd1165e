"""Projections of donated books and of book drifting (图书漂流)."""

from __future__ import annotations

from sqlite_utils import Database

from kiosk.circulation.projector import projection
from kiosk.circulation.store import Event


@projection("donation_recorded")
def donation_recorded(db: Database, e: Event) -> None:
    """Keep a donation and its books; each copy carries its donor's name in the catalogue."""
    d = e.data
    db.execute(
        "INSERT OR IGNORE INTO donations (id, donor_kind, donor_name, patron_id, class_name, "
        "donated_on, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            d["donation"],
            d["donor_kind"],
            d["donor_name"],
            e.patron_id,
            d.get("class_name", ""),
            d["donated_on"],
            e.at,
        ],
    )
    for book in d["books"]:
        db.execute(
            "INSERT OR IGNORE INTO donation_books (donation_id, item_barcode, title) "
            "VALUES (?, ?, ?)",
            [d["donation"], book["barcode"], book["title"]],
        )
        db.execute(
            "UPDATE items SET donor = ?, updated_at = ? WHERE barcode = ?",
            [d["donor_name"], e.at, book["barcode"]],
        )


def _end_hand(db: Database, barcode: str | None, at: str) -> None:
    db.execute(
        "UPDATE drift_hands SET ended_at = ? WHERE item_barcode = ? AND ended_at IS NULL",
        [at, barcode],
    )


@projection("item_drifting")
def item_drifting(db: Database, e: Event) -> None:
    """Let a book drift (off its shelf, no due date), or put it back on its shelf."""
    drifting = bool(e.data["drifting"])
    if not drifting:
        _end_hand(db, e.item_barcode, e.at)
    db.execute(
        "UPDATE items SET drifting = ?, updated_at = ? WHERE barcode = ?",
        [int(drifting), e.at, e.item_barcode],
    )


@projection("drift_taken")
def drift_taken(db: Database, e: Event) -> None:
    """A child has the drifting book now: the last hand ends and a new one starts."""
    _end_hand(db, e.item_barcode, e.at)
    db.execute(
        "INSERT OR IGNORE INTO drift_hands (uuid, item_barcode, patron_id, taken_at) "
        "VALUES (?, ?, ?, ?)",
        [e.uuid, e.item_barcode, e.patron_id, e.at],
    )


@projection("drift_ended")
def drift_ended(db: Database, e: Event) -> None:
    """Nobody has the drifting book any more (handed in); it goes on drifting."""
    _end_hand(db, e.item_barcode, e.at)
