"""Holds: a student asks at the desk for a book that is out; its return puts it on the hold shelf.

The hold is for one copy (the barcode asked for). On its return at the kiosk the screen and
the lights say "hold shelf"; the waiting student is told at their next tap; the hold is closed
when they borrow it, and expires `hold_days` open days after it became ready.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.collection import one
from kiosk.circulation.collection.commands import (
    CloseHold,
    ExpireHolds,
    PlaceHold,
    PlaceTitleHold,
    ReadyHold,
)
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.rules import Rules
from kiosk.circulation.store import Store, fetch
from kiosk.i18n import N_

HOLD_DAYS = 5
MAX_HOLDS = 3
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
    "on_shelf": N_("{title} is on the shelf now: take it and borrow it."),
    "hold_limit": N_("You are already waiting for as many books as you may."),
    "no_copy_out": N_("There is no copy of {title} to wait for. Please ask a library helper."),
    "title_held": N_("You are already waiting for {title}."),
    "title_own_loan": N_("You have {title} already."),
    "queue_place": N_("You are number {position} in the queue for {title}."),
    "hello_queue": N_("Hello, {name}! You are number {position} in the queue for {title}."),
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


@dataclass(frozen=True)
class TitleHold:
    """A hold asked for a title: what was decided, and the student's place in the queue."""

    outcome: Outcome
    title: str
    position: int = 0


def decide_title(
    copies: list[dict[str, Any]],
    patron: dict[str, Any] | None,
    open_holds: int,
    max_holds: int,
    new_id: str,
) -> tuple[list[Draft] | Refusal, int]:
    """Put a student in the queue of the copy of a title that comes back first for them.

    `copies` are the title's copies with their open loan's patron and due time and their
    holders in order. A copy on the shelf is to be borrowed, not waited for; of the copies out,
    the one with the shortest queue, then the earliest due date, is held. Returns the drafts
    (or the refusal) and the student's place in that copy's queue.
    """
    title = copies[0]["title"] if copies else ""
    if patron is None:
        return Refusal("no_such_patron"), 0
    if any(c["status"] == "available" and c["loan_patron"] is None and not c["holders"]
           for c in copies):  # fmt: skip
        return Refusal("on_shelf", {"title": title}), 0
    if any(c["loan_patron"] == patron["id"] for c in copies):
        return Refusal("title_own_loan", {"title": title}), 0
    if any(patron["id"] in c["holders"] for c in copies):
        return Refusal("title_held", {"title": title}), 0
    if open_holds >= max_holds:
        return Refusal("hold_limit", {"max": max_holds}), 0
    out = [c for c in copies if c["loan_patron"] is not None]
    if not out:
        return Refusal("no_copy_out", {"title": title}), 0
    best = min(out, key=lambda c: (len(c["holders"]), c["due_at"], c["barcode"]))
    loan = {"patron_id": best["loan_patron"]}
    return decide_place(best, patron, loan, best["holders"], new_id), len(best["holders"]) + 1


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


def decide_close(hold: dict[str, Any] | None, how: str) -> list[Draft] | Refusal:
    """Close an open hold as fulfilled or cancelled."""
    if hold is None or hold["status"] not in ("waiting", "ready"):
        return Refusal("no_such_hold")
    return [
        Draft(
            f"hold_{how}",
            patron_id=hold["patron_id"],
            item_barcode=hold["item_barcode"],
            data={"hold": hold["id"]},
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
    return handle(store, PlaceHold(barcode, patron_id), actor=actor)


def place_for_title(
    store: Store, barcode: str, patron_id: str, actor: str, max_holds: int
) -> TitleHold:
    """Place a hold for a student on the title of `barcode` (any of its copies out)."""
    outcome = handle(store, PlaceTitleHold(barcode, patron_id, max_holds), actor=actor)
    title, position = outcome.state
    return TitleHold(outcome, title, position if outcome.ok else 0)


def on_return(store: Store, barcode: str, actor: str, expires_on: dt.date) -> dict[str, Any] | None:
    """Make the first waiting hold of a returned book ready; return it with the student's name."""
    if not store.value(
        "SELECT 1 FROM holds WHERE item_barcode = ? AND status = 'waiting'", [barcode]
    ):
        return None  # most returns: no write at all
    waiting = handle(store, ReadyHold(barcode, expires_on), actor=actor).state
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
    return handle(store, CloseHold(hold_id, how), actor=actor)


def expire(store: Store, today: dt.date, actor: str) -> Outcome:
    """Expire every ready hold whose last day has passed."""
    return handle(store, ExpireHolds(today), actor=actor)


# -- queries -----------------------------------------------------------------------------------


def get(db: Database, hold_id: str) -> dict[str, Any] | None:
    """Return one hold, or None."""
    return one(db, "SELECT * FROM holds WHERE id = ?", [hold_id])


def first_waiting(db: Database, barcode: str) -> dict[str, Any] | None:
    """Return a book's waiting hold placed first, or None."""
    return one(
        db,
        "SELECT * FROM holds WHERE item_barcode = ? AND status = 'waiting' "
        "ORDER BY placed_at LIMIT 1",
        [barcode],
    )


def ready(db: Database) -> list[dict[str, Any]]:
    """Return every hold on the hold shelf."""
    return fetch(db, "SELECT * FROM holds WHERE status = 'ready'")


def open_count(db: Database, patron_id: str) -> int:
    """Count a student's waiting and ready holds."""
    return int(
        db.execute(
            "SELECT count(*) FROM holds WHERE patron_id = ? AND status IN ('waiting', 'ready')",
            [patron_id],
        ).fetchone()[0]
    )


def active(db: Database, barcode: str) -> list[dict[str, Any]]:
    """Return the waiting and ready holds of a book, first come first."""
    return fetch(
        db,
        "SELECT * FROM holds WHERE item_barcode = ? AND status IN ('waiting', 'ready') "
        "ORDER BY placed_at",
        [barcode],
    )


def title_copies(db: Database, barcode: str) -> list[dict[str, Any]]:
    """Return the copies of a book's title (same title and author) that may come back, with
    their open loan's patron and due time and their holders first come first."""
    rows = fetch(
        db,
        "SELECT i.barcode, i.title, i.status, l.patron_id AS loan_patron, l.due_at, "
        "(SELECT json_group_array(patron_id) FROM (SELECT patron_id FROM holds h "
        " WHERE h.item_barcode = i.barcode AND h.status IN ('waiting', 'ready') "
        " ORDER BY h.placed_at)) AS holders "
        "FROM items b JOIN items i ON i.title = b.title AND i.author = b.author "
        "LEFT JOIN loans l ON l.item_barcode = i.barcode AND l.returned_at IS NULL "
        "WHERE b.barcode = ? AND i.status NOT IN ('lost', 'damaged', 'withdrawn') "
        "ORDER BY i.barcode",
        [barcode],
    )
    return [{**r, "holders": json.loads(r["holders"])} for r in rows]


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
