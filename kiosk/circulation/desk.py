"""Desk actions beyond the session: undo the last action of a helper, as its own event.

An undo never edits or deletes an event (the log is immutable): it puts the loan back as it was
and records an `undo` event naming the event it reverses, so the hub can do the same.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from kiosk.circulation.clock import parse_stamp
from kiosk.circulation.store import Event, Store

UNDOABLE = ("checkout", "checkin", "renew")


@dataclass(frozen=True)
class Undo:
    """What an undo did: a reason code (undone, nothing_to_undo, too_late, changed_since)."""

    ok: bool
    reason: str
    params: dict[str, Any]
    event: Event | None = None


def last_action(store: Store, actor: str) -> dict[str, Any] | None:
    """Return the actor's last circulation event, or None if it was an undo or there is none."""
    rows = store.query(
        "SELECT * FROM events WHERE actor = ? AND type IN ('checkout', 'checkin', 'renew', 'undo') "
        "ORDER BY seq DESC LIMIT 1",
        [actor],
    )
    return rows[0] if rows and rows[0]["type"] != "undo" else None


def undo_last(store: Store, actor: str, window_s: float) -> Undo:
    """Reverse the actor's last checkout, checkin or renewal if it is recent enough."""
    with store.write() as db:
        rows = list(
            db.query(
                "SELECT e.*, i.title FROM events e LEFT JOIN items i ON i.barcode = e.item_barcode "
                "WHERE e.actor = ? AND e.type IN ('checkout', 'checkin', 'renew', 'undo') "
                "ORDER BY e.seq DESC LIMIT 1",
                [actor],
            )
        )
        if not rows or rows[0]["type"] == "undo":
            return _no("nothing_to_undo")
        last = rows[0]
        age = store.clock.now() - parse_stamp(last["at"])
        if age > dt.timedelta(seconds=window_s):
            return _no("too_late")
        data = json.loads(last["data"])
        if not _reverse(db, last, data):
            return _no("changed_since")
        event = store.record(
            db,
            store.event(
                "undo",
                actor=actor,
                patron_id=last["patron_id"],
                item_barcode=last["item_barcode"],
                data={"undone": last["uuid"], "undone_type": last["type"]},
            ),
        )
    params = {"title": last["title"] or last["item_barcode"]}
    return Undo(True, "undone", params, event)


def _reverse(db: Any, last: dict[str, Any], data: dict[str, Any]) -> bool:
    barcode, at = last["item_barcode"], last["at"]
    if last["type"] == "checkout":
        # A loan made by mistake never happened: remove it; the events keep the record.
        cur = db.execute("DELETE FROM loans WHERE uuid = ? AND returned_at IS NULL", [last["uuid"]])
        if cur.rowcount != 1:
            return False
        db.execute(
            "UPDATE items SET status = 'available', updated_at = ? "
            "WHERE barcode = ? AND status = 'on_loan'",
            [at, barcode],
        )
        return True
    if last["type"] == "checkin":
        open_now = db.execute(
            "SELECT 1 FROM loans WHERE item_barcode = ? AND returned_at IS NULL", [barcode]
        ).fetchone()
        if open_now:
            return False
        cur = db.execute(
            "UPDATE loans SET returned_at = NULL WHERE uuid = ? AND returned_at IS NOT NULL",
            [data.get("loan_uuid")],
        )
        if cur.rowcount != 1:
            return False
        db.execute(
            "UPDATE items SET status = 'on_loan', updated_at = ? "
            "WHERE barcode = ? AND status = 'available'",
            [at, barcode],
        )
        return True
    cur = db.execute(
        "UPDATE loans SET due_at = ?, renewals = renewals - 1 "
        "WHERE uuid = ? AND returned_at IS NULL AND due_at = ? AND renewals > 0",
        [data.get("previous_due_at"), data.get("loan_uuid"), data.get("due_at")],
    )
    return bool(cur.rowcount == 1)


def _no(reason: str) -> Undo:
    return Undo(False, reason, {})
