"""Projections of donated books and of book drifting (图书漂流)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from kiosk.circulation.projector import projection
from kiosk.circulation.queries.drifting import holder
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


def undo_drift(db: Database, uuid: str, target: dict[str, Any]) -> None:
    """Put a drifting book's hands back as they were before a mistaken take or hand-in."""
    barcode, at = target["item_barcode"], target["at"]
    if target["type"] == "drift_taken":
        # The mistaken hand never was: removed (the events keep the record), so the count of
        # hands is right again; the child who had it before has it again.
        cur = db.execute("DELETE FROM drift_hands WHERE uuid = ? AND ended_at IS NULL", [uuid])
        before = target["data"].get("from")
        if not cur.rowcount or not before:
            return
        db.execute(
            "UPDATE drift_hands SET ended_at = NULL WHERE rowid = (SELECT rowid FROM drift_hands "
            "WHERE item_barcode = ? AND patron_id = ? AND ended_at = ? "
            "ORDER BY taken_at DESC LIMIT 1)",
            [barcode, before, at],
        )
    elif holder(db, barcode) is None:  # drift_ended: the child who handed it in has it again
        db.execute(
            "UPDATE drift_hands SET ended_at = NULL WHERE rowid = (SELECT rowid FROM drift_hands "
            "WHERE item_barcode = ? AND ended_at = ? ORDER BY taken_at DESC LIMIT 1)",
            [barcode, at],
        )
