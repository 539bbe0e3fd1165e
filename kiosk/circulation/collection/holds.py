"""Holds: a student asks at the desk for a book that is out; its return puts it on the hold shelf.

The hold is for one copy (the barcode asked for). On its return at the kiosk the screen and
the lights say "hold shelf"; the waiting student is told at their next tap; the hold is closed
when they borrow it, and expires `hold_days` open days after it became ready.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.collection import Outcome, apply, one
from kiosk.circulation.projector import Draft, Refusal
from kiosk.circulation.rules import Rules
from kiosk.circulation.store import Store, fetch
from kiosk.i18n import N_

HOLD_DAYS = 5
STATUS_NAMES = {
    "waiting": N_("waiting"),
    "ready": N_("on the hold shelf"),
    "fulfilled": N_("collected"),
    "expired": N_("expired"),
    "cancelled": N_("cancelled"),
}
MESSAGES = {
    "no_such_item": N_("There is no book with barcode {barcode}."),
    "no_such_patron": N_("There is no such student."),
    "not_out": N_("This book is on the shelf: lend it now instead."),
    "own_loan": N_("{name} has this book already."),
    "already_held": N_("{name} is already waiting for this book."),
    "hold_shelf": N_("Returned. Put this book on the hold shelf for {name} ({class_name})."),
    "hold_waiting": N_("Hello, {name}! {title} is waiting for you on the hold shelf."),
    "no_such_hold": N_("There is no such open hold."),
    "held_for_other": N_("This book is kept for another student. Give it to a library helper."),
}


def open_days_after(rules: Rules, day: dt.date, days: int) -> dt.date:
    """Return the date `days` open days after `day` (closed days and weekends do not count)."""
    left = days
    while left > 0:
        day += dt.timedelta(days=1)
        if rules.is_open(day):
            left -= 1
    return day


def decide_place(
    item: dict[str, Any] | None,
    patron: dict[str, Any] | None,
    loan: dict[str, Any] | None,
    holders: list[str],
    new_id: str,
) -> list[Draft] | Refusal:
    """Put a student on the list for a book that is out."""
    if item is None:
        return Refusal("no_such_item")
    if patron is None:
        return Refusal("no_such_patron")
    if loan is None:
        return Refusal("not_out")
    if loan["patron_id"] == patron["id"]:
        return Refusal("own_loan", {"name": patron["name"]})
    if patron["id"] in holders:
        return Refusal("already_held", {"name": patron["name"]})
    return [
        Draft(
            "hold_placed",
            patron_id=patron["id"],
            item_barcode=item["barcode"],
            data={"hold": new_id},
        )
    ]


def decide_return(waiting: dict[str, Any] | None, expires_on: dt.date) -> list[Draft]:
    """On a return, the first waiting hold becomes ready until `expires_on`."""
    if waiting is None:
        return []
    data = {"hold": waiting["id"], "expires_on": expires_on.isoformat()}
    return [
        Draft(
            "hold_ready",
            patron_id=waiting["patron_id"],
            item_barcode=waiting["item_barcode"],
            data=data,
        )
    ]


def decide_expiry(ready: list[dict[str, Any]], today: dt.date) -> list[Draft]:
    """Expire the ready holds whose last day has passed."""
    return [
        Draft(
            "hold_expired",
            patron_id=h["patron_id"],
            item_barcode=h["item_barcode"],
            data={"hold": h["id"]},
        )
        for h in ready
        if h["expires_on"] < today.isoformat()
    ]


# -- commands ----------------------------------------------------------------------------------


def place(store: Store, barcode: str, patron_id: str, actor: str) -> Outcome:
    """Place a hold for a student on a book that is out."""
    with store.write() as db:
        item = one(db, "SELECT * FROM items WHERE barcode = ?", [barcode])
        patron = one(db, "SELECT * FROM patrons WHERE id = ?", [patron_id])
        loan = one(
            db, "SELECT * FROM loans WHERE item_barcode = ? AND returned_at IS NULL", [barcode]
        )
        holders = [h["patron_id"] for h in active(db, barcode)]
        decided = decide_place(item, patron, loan, holders, str(uuidlib.uuid4()))
        return apply(store, db, decided, actor)


def on_return(store: Store, barcode: str, actor: str, expires_on: dt.date) -> dict[str, Any] | None:
    """Make the first waiting hold of a returned book ready; return it with the student's name."""
    if not store.value(
        "SELECT 1 FROM holds WHERE item_barcode = ? AND status = 'waiting'", [barcode]
    ):
        return None  # most returns: no write at all
    with store.write() as db:
        waiting = one(
            db,
            "SELECT * FROM holds WHERE item_barcode = ? AND status = 'waiting' "
            "ORDER BY placed_at LIMIT 1",
            [barcode],
        )
        apply(store, db, decide_return(waiting, expires_on), actor)
    if waiting is None:
        return None
    return one(
        store.reader,
        "SELECT h.*, p.name, p.class_name FROM holds h JOIN patrons p ON p.id = h.patron_id "
        "WHERE h.id = ?",
        [waiting["id"]],
    )


def close(store: Store, hold_id: str, how: str, actor: str) -> Outcome:
    """Close a hold as fulfilled or cancelled."""
    with store.write() as db:
        hold = one(db, "SELECT * FROM holds WHERE id = ?", [hold_id])
        if hold is None or hold["status"] not in ("waiting", "ready"):
            return apply(store, db, Refusal("no_such_hold"), actor)
        draft = Draft(
            f"hold_{how}",
            patron_id=hold["patron_id"],
            item_barcode=hold["item_barcode"],
            data={"hold": hold_id},
        )
        return apply(store, db, [draft], actor)


def expire(store: Store, today: dt.date, actor: str) -> Outcome:
    """Expire every ready hold whose last day has passed."""
    with store.write() as db:
        ready = fetch(db, "SELECT * FROM holds WHERE status = 'ready'")
        return apply(store, db, decide_expiry(ready, today), actor)


# -- queries -----------------------------------------------------------------------------------


def active(db: Database, barcode: str) -> list[dict[str, Any]]:
    """Return the waiting and ready holds of a book, first come first."""
    return fetch(
        db,
        "SELECT * FROM holds WHERE item_barcode = ? AND status IN ('waiting', 'ready') "
        "ORDER BY placed_at",
        [barcode],
    )


def ready_for(db: Database, patron_id: str) -> list[dict[str, Any]]:
    """Return the books waiting on the hold shelf for a student."""
    return fetch(
        db,
        "SELECT h.*, i.title FROM holds h JOIN items i ON i.barcode = h.item_barcode "
        "WHERE h.patron_id = ? AND h.status = 'ready' ORDER BY h.ready_at",
        [patron_id],
    )


def all_open(db: Database) -> list[dict[str, Any]]:
    """Return every waiting and ready hold with title and student, for the dashboard."""
    return fetch(
        db,
        "SELECT h.*, i.title, p.name, p.class_name FROM holds h "
        "JOIN items i ON i.barcode = h.item_barcode JOIN patrons p ON p.id = h.patron_id "
        "WHERE h.status IN ('waiting', 'ready') ORDER BY h.status DESC, h.placed_at",
    )
