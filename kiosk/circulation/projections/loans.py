"""Projections of loan events: checkout, checkin, renew and undo.

They are written to be applied anywhere, in the order things happened: on the kiosk that decided
them (where the decision already ruled out the odd cases) and at the hub replaying merged events
from many kiosks, where a checkout may find the book still lent (a transfer, or a renewal by the
same patron) and a return may find nothing to end. docs/sync.md lists these rules.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.events import Event
from kiosk.circulation.projections.donations import undo_drift
from kiosk.circulation.projector import projection, projections


def open_loan(db: Database, barcode: str | None) -> tuple[Any, ...] | None:
    """Return (uuid, patron_id, due_at, renewals) of the item's open loan, or None."""
    return db.execute(
        "SELECT uuid, patron_id, due_at, renewals FROM loans "
        "WHERE item_barcode = ? AND returned_at IS NULL",
        [barcode],
    ).fetchone()


# A lost or damaged book keeps its status for the librarian to decide; only on_loan moves.
SHELVE = (
    "UPDATE items SET status = 'available', updated_at = ? WHERE barcode = ? AND status = 'on_loan'"
)
LEND = (
    "UPDATE items SET status = 'on_loan', updated_at = ? WHERE barcode = ? AND status = 'available'"
)


# The same for many books at once, (at, barcode) a row: one statement, not one a book. SQLite
# opens a statement journal for each run of a statement whose trigger writes (the change
# feed): an `executemany` of 500 rows cost about three times this.
_STATUS_ALL = (
    "UPDATE items SET status = '{new}', updated_at = v.column1 FROM (VALUES {rows}) AS v "
    "WHERE items.barcode = v.column2 AND items.status = '{old}'"
)


def _set_all(db: Database, rows: list[tuple[str, str | None]], old: str, new: str) -> None:
    """Move each (at, barcode)'s book from `old` to `new` status (distinct books)."""
    if rows:
        sql = _STATUS_ALL.format(new=new, old=old, rows=_rows(len(rows), 2))
        db.execute(sql, [v for row in rows for v in row])


def _shelve(db: Database, barcode: str | None, at: str) -> None:
    db.execute(SHELVE, [at, barcode])


def _lend(db: Database, barcode: str | None, at: str) -> None:
    db.execute(LEND, [at, barcode])


def _rows(count: int, width: int) -> str:
    """Return the placeholders of `count` rows of `width` values: (?, ?), (?, ?) ..."""
    return ", ".join(["(" + ", ".join("?" * width) + ")"] * count)


# Rows a statement: five values each, well under SQLite's 32,766 parameters.
ROWS = 500

# One statement for the common case (a book on the shelf): insert each loan, or, when the same
# patron's loan of the book is open (the unique index of open loans), renew that one; another
# patron's open loan changes nothing here and returns no row.
_OPEN_OR_RENEW = (
    "INSERT INTO loans (uuid, item_barcode, patron_id, checked_out_at, due_at) "
    "VALUES {rows} "
    "ON CONFLICT(item_barcode) WHERE returned_at IS NULL DO UPDATE SET "
    "due_at = max(due_at, excluded.due_at), renewals = renewals + 1 "
    "WHERE loans.patron_id = excluded.patron_id "
    "RETURNING item_barcode, uuid"
)


@projections("checkout")
def checkout(db: Database, events: list[Event]) -> None:
    """Open a loan of each book; one still open ends here, or is renewed when the same patron
    has it."""
    for i in range(0, len(events), ROWS):
        part = events[i : i + ROWS]
        values = [(e.uuid, e.item_barcode, e.patron_id, e.at, e.data["due_at"]) for e in part]
        sql = _OPEN_OR_RENEW.format(rows=_rows(len(part), 5))
        done = dict(db.execute(sql, [v for row in values for v in row]).fetchall())
        # No row: another patron's open loan (at the hub, a transfer): it ends here.
        moved = [
            (e, row) for e, row in zip(part, values, strict=True) if e.item_barcode not in done
        ]
        if moved:
            db.conn.executemany(
                "UPDATE loans SET returned_at = ? WHERE item_barcode = ? AND returned_at IS NULL",
                [(e.at, e.item_barcode) for e, _ in moved],
            )
            db.conn.executemany(
                "INSERT INTO loans (uuid, item_barcode, patron_id, checked_out_at, due_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [row for _, row in moved],
            )
        # Lent: not the same patron's loan renewed (its own UUID came back, or none did).
        lent = [e for e in part if done.get(e.item_barcode, e.uuid) == e.uuid]
        _set_all(db, [(e.at, e.item_barcode) for e in lent], "available", "on_loan")


@projections("checkin")
def checkin(db: Database, events: list[Event]) -> None:
    """End whatever loan of each book is open; a book on the shelf stays there."""
    for i in range(0, len(events), ROWS):
        part = events[i : i + ROWS]
        ended = {
            r[0]
            for r in db.execute(
                "UPDATE loans SET returned_at = v.column1 FROM (VALUES "
                + _rows(len(part), 2)
                + ") AS v WHERE loans.item_barcode = v.column2 AND loans.returned_at IS NULL "
                "RETURNING loans.item_barcode",
                [v for e in part for v in (e.at, e.item_barcode)],
            ).fetchall()
        }
        back = [(e.at, e.item_barcode) for e in part if e.item_barcode in ended]
        _set_all(db, back, "on_loan", "available")


@projection("renew")
def renew(db: Database, e: Event) -> None:
    """Move the due date of the patron's open loan of the item."""
    db.execute(
        "UPDATE loans SET due_at = ?, renewals = renewals + 1 "
        "WHERE item_barcode = ? AND returned_at IS NULL AND patron_id = ?",
        [e.data["due_at"], e.item_barcode, e.patron_id],
    )


def undone_event(db: Database, uuid: str) -> dict[str, Any] | None:
    """Return the type, time, item and data of the event an undo names, if this store has it."""
    row = db.execute(
        "SELECT type, at, data, item_barcode FROM events WHERE uuid = ?", [uuid]
    ).fetchone()
    if row is None:
        return None
    return {"type": row[0], "at": row[1], "data": json.loads(row[2]), "item_barcode": row[3]}


@projection("undo")
def undo(db: Database, e: Event) -> None:
    """Put the loan back as it was before the event the undo names (an event of the same book)."""
    target = undone_event(db, str(e.data.get("undone")))
    if target is None or target["item_barcode"] != e.item_barcode:
        return  # nothing this undo may touch: never another book's loan
    data, barcode = target["data"], e.item_barcode
    if target["type"] == "checkout":
        # A loan made by mistake never happened: remove it; the events keep the record.
        made = db.execute(
            "SELECT checked_out_at FROM loans WHERE uuid = ?", [e.data["undone"]]
        ).fetchone()
        db.execute("DELETE FROM loans WHERE uuid = ?", [e.data["undone"]])
        if made is not None and open_loan(db, barcode) is None:
            # At the hub that checkout may have ended another patron's loan (a transfer):
            # that loan goes on, as if the mistaken checkout had never happened.
            db.execute(
                "UPDATE loans SET returned_at = NULL WHERE uuid = (SELECT uuid FROM loans "
                "WHERE item_barcode = ? AND returned_at = ? ORDER BY checked_out_at DESC LIMIT 1)",
                [barcode, made[0]],
            )
        if open_loan(db, barcode) is None:
            _shelve(db, barcode, e.at)
    elif target["type"] == "checkin":
        if open_loan(db, barcode) is not None:
            return
        cur = db.execute(
            "UPDATE loans SET returned_at = NULL WHERE uuid = ? AND returned_at IS NOT NULL",
            [data.get("loan_uuid")],
        )
        if cur.rowcount:
            _lend(db, barcode, e.at)
    elif target["type"] in ("drift_taken", "drift_ended"):
        undo_drift(db, str(e.data["undone"]), target)
    elif target["type"] == "renew":
        db.execute(
            "UPDATE loans SET due_at = ?, renewals = renewals - 1 "
            "WHERE uuid = ? AND returned_at IS NULL AND renewals > 0",
            [data.get("previous_due_at"), data.get("loan_uuid")],
        )


@projection("loans_replayed")
def loans_replayed(db: Database, e: Event) -> None:
    """Forget the item's loans the hub is about to replay (never logged).

    `data`: {"loans": the UUIDs of the loans made after the moment the replay starts from};
    the item was on the shelf at that moment.
    """
    for uuid in e.data["loans"]:
        db.execute("DELETE FROM loans WHERE uuid = ?", [uuid])
    _shelve(db, e.item_barcode, e.at)


@projection("loan_synced")
def loan_synced(db: Database, e: Event) -> None:
    """Make an item's open loan the hub's (a copy of the hub's feed, logged, never sent back).

    `data`: {"key": barcode, "row": the hub's open loan or None}. Any other open loan of the item
    ends; the hub's is inserted or updated.
    """
    barcode, loan = e.data["key"], e.data.get("row")
    if loan is not None and not (
        db.execute("SELECT 1 FROM patrons WHERE id = ?", [loan["patron_id"]]).fetchone()
        and db.execute("SELECT 1 FROM items WHERE barcode = ?", [barcode]).fetchone()
    ):
        return  # master data not here yet; the next page or snapshot brings it
    keep = loan["uuid"] if loan else None
    db.execute(
        "UPDATE loans SET returned_at = ? WHERE item_barcode = ? AND returned_at IS NULL "
        "AND uuid IS NOT ?",
        [e.at, barcode, keep],
    )
    if loan is None:
        _shelve(db, barcode, e.at)
        return
    db.execute(
        "INSERT INTO loans (uuid, item_barcode, patron_id, checked_out_at, due_at, renewals) "
        "VALUES (:uuid, :item_barcode, :patron_id, :checked_out_at, :due_at, :renewals) "
        "ON CONFLICT(uuid) DO UPDATE SET patron_id = excluded.patron_id, due_at = excluded.due_at, "
        "renewals = excluded.renewals, returned_at = NULL",
        loan,
    )
    _lend(db, barcode, e.at)
