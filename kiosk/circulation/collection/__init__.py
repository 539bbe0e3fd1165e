"""The collection's year: stocktake, lost and damaged books, weeding, holds, cards, promotion.

Each module holds the commands of one chore, their pure decisions and the named queries its
lists and reports read. A decision takes plain values (the rows it needs) and returns the
events to record as `Draft`s, or a `Refusal` with a stable reason code. A chore's function
builds its command (`collection/commands.py`) and calls `handler.handle`, which runs the
command's step (`steps/collection.py`: read through the named queries, decide) and commits the
drafts in one `store.write()`; no module here commits on its own. The tables they change are
written only by `circulation/projections/collection.py`, so the hub's replay of the same events
builds the same rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.handler import Outcome as Outcome  # the chores' answer is the handler's
from kiosk.circulation.store import fetch
from kiosk.i18n import N_

# Every event type of this area with the words a page shows for it; the hub replays them all.
EVENT_NAMES = {
    "stocktake_started": N_("stocktake started"),
    "stocktake_scan": N_("stocktake scan"),
    "stocktake_paused": N_("stocktake paused"),
    "stocktake_resumed": N_("stocktake resumed"),
    "stocktake_finished": N_("stocktake finished"),
    "item_lost": N_("marked lost"),
    "item_damaged": N_("marked damaged"),
    "item_found": N_("found again"),
    "compensation_recorded": N_("compensation recorded"),
    "repair_started": N_("sent to repair"),
    "repair_done": N_("repaired"),
    "item_withdrawn": N_("withdrawn"),
    "card_replaced": N_("card replaced"),
    "hold_placed": N_("hold placed"),
    "hold_ready": N_("hold ready"),
    "hold_fulfilled": N_("hold collected"),
    "hold_expired": N_("hold expired"),
    "hold_cancelled": N_("hold cancelled"),
    "year_promoted": N_("new school year"),
    "leavers_closed": N_("leavers closed"),
    "corner_lent": N_("lent to a class corner"),
    "holiday_loans_set": N_("holiday loans set"),
}
EVENT_TYPES = tuple(EVENT_NAMES)


def school_year_start(today: date) -> str:
    """Return 1 September of the school year `today` is in, as the store's times compare."""
    return f"{today.year if today.month >= 9 else today.year - 1}-09-01"


def one(db: Database, sql: str, params: Any = ()) -> dict[str, Any] | None:
    """Return the first row of a SELECT, or None."""
    found = fetch(db, sql, params)
    return found[0] if found else None


# Named queries the chores' steps share.


def item(db: Database, barcode: str) -> dict[str, Any] | None:
    """Return a book's row by barcode, or None."""
    return one(db, "SELECT * FROM items WHERE barcode = ?", [barcode])


def patron(db: Database, patron_id: str) -> dict[str, Any] | None:
    """Return a patron's row, or None."""
    return one(db, "SELECT * FROM patrons WHERE id = ?", [patron_id])


def open_loan(db: Database, barcode: str) -> dict[str, Any] | None:
    """Return a book's open loan, or None."""
    return one(db, "SELECT * FROM loans WHERE item_barcode = ? AND returned_at IS NULL", [barcode])


def on_loan(db: Database, barcode: str) -> bool:
    """Say whether a book has an open loan."""
    found = db.execute(
        "SELECT 1 FROM loans WHERE item_barcode = ? AND returned_at IS NULL", [barcode]
    ).fetchone()
    return found is not None
