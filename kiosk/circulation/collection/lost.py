"""Lost and damaged books: mark them, record compensation, restore what turns up, repair.

A loan is marked lost while it is open (the student lost it): the loan closes as lost, the book's
status is lost and an incident remembers who, when and who decided. A damaged book (returned
damaged, or found damaged on the shelf) opens an incident too and waits in the repair queue.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from kiosk.circulation.collection import one
from kiosk.circulation.collection.commands import MarkBook, MarkFound, RecordCompensation, Repair
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.store import Store, fetch
from kiosk.i18n import N_

COMPENSATIONS = ("money", "replacement", "waived")
NAMES = {
    "lost": N_("lost"),
    "damaged": N_("damaged"),
    "in_repair": N_("in repair"),
    "withdrawn": N_("withdrawn"),
    "money": N_("paid"),
    "replacement": N_("replacement copy"),
    "waived": N_("waived"),
    "found": N_("found again"),
    "repaired": N_("repaired"),
}
MESSAGES = {
    "no_such_item": N_("There is no book with barcode {barcode}."),
    "already_lost": N_("This book is already marked lost."),
    "already_damaged": N_("This book is already marked damaged."),
    "withdrawn": N_("This book has been withdrawn."),
    "not_lost": N_("This book is not marked lost."),
    "no_such_incident": N_("There is no such lost or damaged record."),
    "bad_compensation": N_("Choose paid, replacement copy or waived."),
    "not_in_repair_queue": N_("This book is not waiting for repair."),
    "item_found": N_("This book was lost and has turned up. Thank you! Give it to a helper."),
}


# -- decisions (pure) --------------------------------------------------------------------------


def decide_incident(
    kind: str, item: dict[str, Any] | None, loan: dict[str, Any] | None, note: str = ""
) -> list[Draft] | Refusal:
    """Mark a book lost or damaged; an open loan closes with it, the borrower recorded."""
    if item is None:
        return Refusal("no_such_item")
    if item["status"] == "withdrawn":
        return Refusal("withdrawn")
    if item["status"] == kind:
        return Refusal(f"already_{kind}")
    data: dict[str, Any] = {"note": note} if note else {}
    patron = None
    if loan is not None:
        data["loan_uuid"] = loan["uuid"]
        patron = loan["patron_id"]
    return [Draft(f"item_{kind}", patron_id=patron, item_barcode=item["barcode"], data=data)]


def decide_found(item: dict[str, Any] | None, how: str) -> list[Draft] | Refusal:
    """Restore a lost book that turned up (`how`: kiosk, desk or dashboard)."""
    if item is None:
        return Refusal("no_such_item")
    if item["status"] != "lost":
        return Refusal("not_lost")
    return [Draft("item_found", item_barcode=item["barcode"], data={"how": how})]


def decide_compensation(
    incident: dict[str, Any] | None, kind: str, amount: str
) -> list[Draft] | Refusal:
    """Record what was paid, replaced or waived for an incident."""
    if incident is None:
        return Refusal("no_such_incident")
    if kind not in COMPENSATIONS:
        return Refusal("bad_compensation")
    data = {"incident": incident["id"], "kind": kind, "amount": amount.strip()}
    return [
        Draft(
            "compensation_recorded",
            patron_id=incident["patron_id"],
            item_barcode=incident["item_barcode"],
            data=data,
        )
    ]


def decide_repair(incident: dict[str, Any] | None, step: str) -> list[Draft] | Refusal:
    """Send a damaged book to repair (`started`), or back to the shelf (`done`)."""
    if incident is None or incident["kind"] != "damaged" or incident["resolved_as"]:
        return Refusal("not_in_repair_queue")
    return [
        Draft(
            f"repair_{step}",
            item_barcode=incident["item_barcode"],
            data={"incident": incident["id"]},
        )
    ]


# -- commands ----------------------------------------------------------------------------------


def mark(store: Store, kind: str, barcode: str, actor: str, note: str = "") -> Outcome:
    """Mark a book `lost` or `damaged` (closing its open loan, if any)."""
    return handle(store, MarkBook(kind, barcode, note), actor=actor)


def mark_many_lost(store: Store, barcodes: list[str], actor: str, note: str) -> list[Outcome]:
    """Mark several books lost in one transaction (a stocktake's missing books)."""
    with store.write():
        return [handle(store, MarkBook("lost", b, note), actor=actor) for b in barcodes]


def found(store: Store, barcode: str, actor: str, how: str) -> Outcome:
    """Restore a lost book that turned up."""
    return handle(store, MarkFound(barcode, how), actor=actor)


def compensate(store: Store, incident_id: str, kind: str, amount: str, actor: str) -> Outcome:
    """Record compensation for an incident, with who decided."""
    return handle(store, RecordCompensation(incident_id, kind, amount), actor=actor)


def repair(store: Store, incident_id: str, step: str, actor: str) -> Outcome:
    """Start or finish the repair of a damaged book."""
    return handle(store, Repair(incident_id, step), actor=actor)


# -- queries -----------------------------------------------------------------------------------


def incident(db: Database, incident_id: str) -> dict[str, Any] | None:
    """Return one incident."""
    return one(db, "SELECT * FROM incidents WHERE id = ?", [incident_id])


LIST_SQL = {
    "lost": "i.kind = 'lost' AND i.resolved_as IS NULL",
    "damaged": "i.kind = 'damaged' AND i.resolved_as IS NULL AND i.repair_started_at IS NULL",
    "in_repair": "i.kind = 'damaged' AND i.resolved_as IS NULL AND i.repair_started_at IS NOT NULL",
}


def incidents(db: Database, which: str, year_from: str = "") -> list[dict[str, Any]]:
    """Return the open incidents of one list (lost, damaged, in_repair), newest first.

    Lost and damaged lists also show books given that status without an incident (the book
    page's status buttons): no borrower known, no compensation to record.
    """
    bare = (
        "UNION ALL SELECT NULL, it.status, it.barcode, NULL, NULL, it.updated_at, '', '', NULL, "
        "'', NULL, NULL, NULL, NULL, NULL, NULL, it.title, it.call_number, NULL, NULL "
        "FROM items it WHERE it.status = ? AND it.updated_at >= ? AND NOT EXISTS "
        "(SELECT 1 FROM incidents x WHERE x.item_barcode = it.barcode AND x.kind = it.status "
        "AND x.resolved_as IS NULL) "
        if which in ("lost", "damaged")
        else ""
    )
    params = [year_from, which, year_from] if bare else [year_from]
    return fetch(
        db,
        "SELECT * FROM (SELECT i.*, it.title, it.call_number, p.name AS patron_name, p.class_name "
        "FROM incidents i LEFT JOIN items it ON it.barcode = i.item_barcode "
        "LEFT JOIN patrons p ON p.id = i.patron_id "
        f"WHERE {LIST_SQL[which]} AND i.at >= ? {bare}) ORDER BY at DESC",
        params,
    )


def history(db: Database, barcode: str) -> list[dict[str, Any]]:
    """Return every incident of one book, oldest first (what the book's record shows)."""
    return fetch(db, "SELECT * FROM incidents WHERE item_barcode = ? ORDER BY at", [barcode])


def of_patron(db: Database, patron_id: str) -> list[dict[str, Any]]:
    """Return a patron's lost and damaged books (what the student's record says)."""
    return fetch(
        db,
        "SELECT i.*, it.title FROM incidents i LEFT JOIN items it ON it.barcode = i.item_barcode "
        "WHERE i.patron_id = ? ORDER BY i.at",
        [patron_id],
    )


def totals(db: Database, since: str) -> dict[str, Any]:
    """Count the year's incidents and withdrawals for the year's report."""
    row = db.execute(
        "SELECT "
        "sum(kind = 'lost'), sum(kind = 'damaged'), sum(resolved_as = 'found'), "
        "sum(resolved_as = 'repaired'), sum(compensation = 'money'), "
        "sum(compensation = 'replacement'), sum(compensation = 'waived') "
        "FROM incidents WHERE at >= ?",
        [since],
    ).fetchone()
    keys = ("lost", "damaged", "found", "repaired", "money", "replacement", "waived")
    counts = {k: int(v or 0) for k, v in zip(keys, row, strict=True)}
    counts["withdrawn"] = db.execute(
        "SELECT count(*) FROM withdrawals WHERE at >= ?", [since]
    ).fetchone()[0]
    return counts
