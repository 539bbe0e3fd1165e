"""Projections of the collection's events: stocktakes, incidents, withdrawals, holds, cards.

Each is idempotent (replaying an event leaves the same rows) and depends only on the event and
the rows earlier events left, so the hub's replay in time order builds what the kiosk built.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from kiosk.circulation.cards import number, stored
from kiosk.circulation.events import Event
from kiosk.circulation.projector import projection


def _target(db: Database, stocktake_id: Any) -> str | None:
    """Return the stocktake a scan counts for: the one this id joined, or itself."""
    row = db.execute(
        "SELECT id, joined_to FROM stocktakes WHERE id = ?", [str(stocktake_id)]
    ).fetchone()
    if row is None:
        return None
    return str(row[1] or row[0])


@projection("stocktake_started")
def stocktake_started(db: Database, e: Event) -> None:
    """Open a stocktake; a second one of the same scope (another kiosk's) joins the first."""
    # An optional field the kiosk sent as null (kiosk/circulation/schemas.py) is empty here.
    d = {**e.data, **{k: e.data.get(k) or "" for k in ("location", "call_from", "call_to")}}
    inserted = db.execute(
        "INSERT OR IGNORE INTO stocktakes (id, location, call_from, call_to, status, "
        "started_at, started_by, kiosk_id) VALUES (?, ?, ?, ?, 'open', ?, ?, ?)",
        [
            d["stocktake"],
            d.get("location", ""),
            d.get("call_from", ""),
            d.get("call_to", ""),
            e.at,
            e.actor,
            e.kiosk_id,
        ],
    ).rowcount
    if not inserted:
        return
    first = db.execute(
        "SELECT id FROM stocktakes WHERE status != 'finished' AND joined_to IS NULL "
        "AND location = ? AND call_from = ? AND call_to = ? AND id != ? "
        "ORDER BY started_at LIMIT 1",
        [d.get("location", ""), d.get("call_from", ""), d.get("call_to", ""), d["stocktake"]],
    ).fetchone()
    if first is not None:
        db.execute("UPDATE stocktakes SET joined_to = ? WHERE id = ?", [first[0], d["stocktake"]])


@projection("stocktake_scan")
def stocktake_scan(db: Database, e: Event) -> None:
    """Count a barcode once per stocktake, keeping the earliest scan and its kiosk."""
    if not e.item_barcode:
        return
    # The stocktake it counts for (the one this id joined, or itself) is found by the INSERT
    # itself: one statement on every stocktake scan rather than two; an unknown id adds nothing.
    db.execute(
        "INSERT INTO stocktake_scans (stocktake_id, barcode, first_at, kiosk_id) "
        "SELECT coalesce(joined_to, id), ?, ?, ? FROM stocktakes WHERE id = ? "
        "ON CONFLICT(stocktake_id, barcode) DO UPDATE SET "
        "kiosk_id = CASE WHEN excluded.first_at < first_at THEN excluded.kiosk_id "
        "ELSE kiosk_id END, first_at = min(first_at, excluded.first_at)",
        [e.item_barcode, e.at, e.kiosk_id, str(e.data.get("stocktake"))],
    )


@projection("stocktake_paused", "stocktake_resumed", "stocktake_finished")
def stocktake_status(db: Database, e: Event) -> None:
    """Pause, resume or finish a stocktake; a finished one stays finished."""
    target = _target(db, e.data.get("stocktake"))
    to = {"stocktake_paused": "paused", "stocktake_resumed": "open"}.get(e.type, "finished")
    db.execute(
        "UPDATE stocktakes SET status = ?, finished_at = CASE WHEN ? = 'finished' "
        "THEN ? ELSE finished_at END WHERE id = ? AND status != 'finished'",
        [to, to, e.at, target],
    )


def _item_status(db: Database, barcode: str | None, status: str, at: str) -> None:
    db.execute(
        "UPDATE items SET status = ?, updated_at = ? WHERE barcode = ?", [status, at, barcode]
    )


@projection("item_lost", "item_damaged")
def item_incident(db: Database, e: Event) -> None:
    """Close the loan (as lost or damaged), set the book's status and open the incident."""
    kind = "lost" if e.type == "item_lost" else "damaged"
    loan = e.data.get("loan_uuid")
    if loan:
        db.execute(
            "UPDATE loans SET returned_at = ?, closed_as = ? "
            "WHERE uuid = ? AND returned_at IS NULL",
            [e.at, kind, loan],
        )
    _item_status(db, e.item_barcode, kind, e.at)
    db.execute(
        "INSERT OR IGNORE INTO incidents (id, kind, item_barcode, patron_id, loan_uuid, at, "
        "actor, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [e.uuid, kind, e.item_barcode, e.patron_id, loan, e.at, e.actor, e.data.get("note") or ""],
    )


def _resolve(db: Database, e: Event, kinds: tuple[str, ...], how: str) -> None:
    marks = ",".join("?" * len(kinds))
    db.execute(
        f"UPDATE incidents SET resolved_as = ?, resolved_at = ?, resolved_by = ? "
        f"WHERE item_barcode = ? AND kind IN ({marks}) AND resolved_as IS NULL",
        [how, e.at, e.actor, e.item_barcode, *kinds],
    )


@projection("item_found")
def item_found(db: Database, e: Event) -> None:
    """A lost book turned up: back on the shelf, its incident resolved as found."""
    _item_status(db, e.item_barcode, "available", e.at)
    _resolve(db, e, ("lost",), "found")


@projection("compensation_recorded")
def compensation_recorded(db: Database, e: Event) -> None:
    """Record what was paid, replaced or waived for an incident, and who decided."""
    db.execute(
        "UPDATE incidents SET compensation = ?, amount = ?, compensation_by = ?, "
        "compensation_at = ? WHERE id = ?",
        [e.data["kind"], e.data.get("amount") or "", e.actor, e.at, e.data["incident"]],
    )


@projection("repair_started")
def repair_started(db: Database, e: Event) -> None:
    """Move a damaged book from the repair queue to the mender."""
    db.execute(
        "UPDATE incidents SET repair_started_at = coalesce(repair_started_at, ?) WHERE id = ?",
        [e.at, e.data["incident"]],
    )


@projection("repair_done")
def repair_done(db: Database, e: Event) -> None:
    """A repaired book goes back to the shelf."""
    _item_status(db, e.item_barcode, "available", e.at)
    _resolve(db, e, ("damaged",), "repaired")


@projection("item_withdrawn")
def item_withdrawn(db: Database, e: Event) -> None:
    """Withdraw a book from the collection, for the asset register."""
    _item_status(db, e.item_barcode, "withdrawn", e.at)
    db.execute(
        "INSERT OR REPLACE INTO withdrawals (item_barcode, reason, at, actor, note) "
        "VALUES (?, ?, ?, ?, ?)",
        [e.item_barcode, e.data["reason"], e.at, e.actor, e.data.get("note") or ""],
    )
    _resolve(db, e, ("lost", "damaged"), "withdrawn")


@projection("card_replaced")
def card_replaced(db: Database, e: Event) -> None:
    """Refuse the old card from now on and give the patron the new one."""
    old, new = stored(db, e.data["old"]), stored(db, e.data["new"])
    db.execute("UPDATE cards SET status = 'lost' WHERE code = ?", [old])
    db.execute(
        "INSERT INTO cards (code, patron_id, status, created_at, number) "
        "VALUES (?, ?, 'active', ?, ?) ON CONFLICT(code) DO UPDATE SET "
        "patron_id = excluded.patron_id, status = 'active'",
        [new, e.patron_id, e.at, number(new)],
    )


@projection("hold_placed")
def hold_placed(db: Database, e: Event) -> None:
    """Put a student on the waiting list for a book that is out."""
    db.execute(
        "INSERT OR IGNORE INTO holds (id, item_barcode, patron_id, placed_at, kiosk_id) "
        "VALUES (?, ?, ?, ?, ?)",
        [e.data["hold"], e.item_barcode, e.patron_id, e.at, e.kiosk_id],
    )


@projection("hold_ready")
def hold_ready(db: Database, e: Event) -> None:
    """The held book came back: it waits on the hold shelf until `expires_on`."""
    db.execute(
        "UPDATE holds SET status = 'ready', ready_at = ?, expires_on = ? "
        "WHERE id = ? AND status = 'waiting'",
        [e.at, e.data["expires_on"], e.data["hold"]],
    )


@projection("hold_fulfilled", "hold_expired", "hold_cancelled")
def hold_closed(db: Database, e: Event) -> None:
    """Close a hold: the student took the book, or it waited too long, or was cancelled."""
    status = e.type.removeprefix("hold_")
    db.execute(
        "UPDATE holds SET status = ?, closed_at = ? WHERE id = ? "
        "AND status IN ('waiting', 'ready')",
        [status, e.at, e.data["hold"]],
    )


@projection("year_promoted", "leavers_closed")
def year_promoted(db: Database, e: Event) -> None:
    """Move every listed student up a grade (a kept leaver: blocked); close settled leavers."""
    for move in e.data.get("moves", []):
        db.execute(
            "UPDATE patrons SET grade = ?, class_name = ?, status = coalesce(?, status), "
            "updated_at = ? WHERE id = ?",
            [move["grade"], move["class_name"], move.get("status"), e.at, move["patron"]],
        )
    for patron in e.data.get("leavers", []):
        db.execute(
            "UPDATE patrons SET status = 'left', updated_at = ? WHERE id = ?", [e.at, patron]
        )


@projection("corner_lent")
def corner_lent(db: Database, e: Event) -> None:
    """Lend a box of books to a class: one loan per book to the person responsible."""
    for item in e.data["items"]:
        inserted = db.execute(
            "INSERT OR IGNORE INTO loans (uuid, item_barcode, patron_id, checked_out_at, due_at) "
            "SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM loans "
            "WHERE item_barcode = ? AND returned_at IS NULL)",
            [
                item["loan_uuid"],
                item["barcode"],
                e.patron_id,
                e.at,
                e.data["due_at"],
                item["barcode"],
            ],
        ).rowcount
        if inserted:
            _item_status(db, item["barcode"], "on_loan", e.at)
        db.execute(
            "INSERT OR IGNORE INTO corner_loans (loan_uuid, class_name, batch) VALUES (?, ?, ?)",
            [item["loan_uuid"], e.data["class_name"], e.data["batch"]],
        )


@projection("holiday_loans_set")
def holiday_loans_set(db: Database, e: Event) -> None:
    """Turn holiday loans on (with their due date) or off for the grades in the event."""
    for grade, due in e.data["grades"].items():
        if due:
            db.execute(
                "INSERT INTO holiday_loans (grade, due_on) VALUES (?, ?) "
                "ON CONFLICT(grade) DO UPDATE SET due_on = excluded.due_on",
                [int(grade), due],
            )
        else:
            db.execute("DELETE FROM holiday_loans WHERE grade = ?", [int(grade)])
