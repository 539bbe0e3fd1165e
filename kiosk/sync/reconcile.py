"""Receive kiosk events at the hub and decide the loans in the order things happened.

A batch is stored and applied in one transaction, so the hub acknowledges only what it durably
holds. The loans of every item a batch touches are rebuilt by replaying all of that item's loan
events in kiosk-clock order (corrected by the kiosk's measured clock offset), so an event that
arrives a week late lands where it happened. The rules (docs/sync.md says why):

- checkout of a book nobody has: a loan.
- checkout by the patron who already has it: a renewal (reported as `same_patron`).
- checkout by another patron: the earlier loan ends there and the later one stands (`transfer`).
- checkin: ends whatever loan is open at that moment, whoever made it and wherever.
- checkin of a book not on loan at that moment: nothing to end (`return_not_on_loan`).
- renew of a loan the patron does not have at that moment: ignored (`renew_not_on_loan`).
- a checkout over the patron's limit, after a card of theirs was reported lost, or by a blocked
  patron: the loan stands (the book is out) and it is reported (`over_limit`, `lost_card`,
  `patron_blocked`).
- events for an item or patron the hub does not know: stored, reported (`unknown_item`,
  `unknown_patron`), never applied.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.clock import parse_stamp, stamp
from kiosk.circulation.models import Patron
from kiosk.circulation.rules import Rules, load_rules
from kiosk.circulation.store import Event, Store
from kiosk.sync import trust
from kiosk.sync.protocol import LOAN_TYPES, BadRequest

# Offsets smaller than this are network and processing noise, not a wrong clock.
SKEW_TOLERANCE_S = 5.0
ITEM_CONFLICTS = ("same_patron", "transfer", "return_not_on_loan", "renew_not_on_loan")
CHUNK = 500


@dataclass(frozen=True)
class Receipt:
    """What the hub did with a batch."""

    stored: int
    duplicates: int
    uuids: list[str]
    clock_offset_s: float
    hub_time: str

    def body(self) -> dict[str, Any]:
        """Return the JSON answer to the kiosk."""
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "acked": self.uuids,
            "clock_offset_s": self.clock_offset_s,
            "hub_time": self.hub_time,
        }


def _chunks(seq: list[Any], n: int = CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _shift(at: str, seconds: float) -> str:
    if not seconds:
        return at
    return stamp(parse_stamp(at) - dt.timedelta(seconds=seconds))


def receive(store: Store, kiosk_id: str, sent_at: str, events: list[Event]) -> Receipt:
    """Store a checked batch once, apply it, and return the receipt (all in one transaction)."""
    now = store.now()
    offset = round((parse_stamp(sent_at) - parse_stamp(now)).total_seconds(), 3)
    correction = offset if abs(offset) >= SKEW_TOLERANCE_S else 0.0
    with store.write() as db:
        known: dict[str, str] = {}
        for part in _chunks([e.uuid for e in events]):
            marks = ",".join("?" * len(part))
            for uuid, owner in db.execute(
                f"SELECT uuid, kiosk_id FROM events WHERE uuid IN ({marks})", part
            ):
                known[uuid] = owner
        foreign = sorted(u for u, owner in known.items() if owner != kiosk_id)
        if foreign:
            raise BadRequest(
                409,
                "replayed_from_other_kiosk",
                f"event {foreign[0]} was already received from another kiosk; "
                f"this batch is refused ({len(foreign)} such events)",
            )
        new = [e for e in events if e.uuid not in known]
        db.conn.executemany(
            "INSERT INTO events (uuid, type, at, kiosk_id, actor, patron_id, item_barcode, data) "
            "VALUES (:uuid, :type, :at, :kiosk_id, :actor, :patron_id, :item_barcode, :data)",
            [e.row() for e in new],
        )
        db.conn.executemany(
            "INSERT INTO received (uuid, kiosk_id, kiosk_seq, received_at, clock_offset_s, "
            "effective_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(e.uuid, kiosk_id, e.seq, now, offset, _shift(e.at, correction)) for e in new],
        )
        _apply_master(db, new, now)
        items = sorted({e.item_barcode for e in new if e.type in LOAN_TYPES and e.item_barcode})
        for barcode in items:
            rebuild_item(db, barcode, now)
        if new:
            since = _shift(min(e.at for e in new), correction)
            _patron_conflicts(db, new, since, now, load_rules(db))
        db.execute(
            "UPDATE kiosks SET last_contact = ?, clock_offset_s = ?, "
            "events_received = events_received + ? WHERE id = ?",
            [now, offset, len(new), kiosk_id],
        )
    return Receipt(len(new), len(events) - len(new), [e.uuid for e in events], offset, now)


def touch_contact(store: Store, kiosk_id: str, sent_at: str | None) -> None:
    """Record that a kiosk was in touch, and its clock offset when it said its clock."""
    now = store.now()
    with store.write() as db:
        if sent_at:
            offset = round((parse_stamp(sent_at) - parse_stamp(now)).total_seconds(), 3)
            db.execute(
                "UPDATE kiosks SET last_contact = ?, clock_offset_s = ? WHERE id = ?",
                [now, offset, kiosk_id],
            )
        else:
            db.execute("UPDATE kiosks SET last_contact = ? WHERE id = ?", [now, kiosk_id])


def _apply_master(db: Database, events: list[Event], now: str) -> None:
    """Apply desk changes to master data that a kiosk may make (lost cards, item status)."""
    for e in sorted(events, key=lambda e: e.at):
        if not trust.allowed(db, e, now):  # kiosk/sync/trust.py: what a kiosk may change
            continue
        card = e.data.get("card")
        if e.type == "card_lost" and isinstance(card, str):
            db.execute("UPDATE cards SET status = 'lost' WHERE code = ?", [card])
        elif e.type == "card_issued" and isinstance(card, str) and e.patron_id:
            if db.execute("SELECT 1 FROM patrons WHERE id = ?", [e.patron_id]).fetchone():
                db.execute(
                    "INSERT INTO cards (code, patron_id, status, created_at) "
                    "VALUES (?, ?, 'active', ?) ON CONFLICT(code) DO UPDATE SET "
                    "patron_id = excluded.patron_id, status = 'active'",
                    [card, e.patron_id, now],
                )
        elif e.type == "item_status" and e.data.get("status") in ("lost", "damaged", "withdrawn"):
            db.execute(
                "UPDATE items SET status = ?, updated_at = ? WHERE barcode = ?",
                [e.data["status"], now, e.item_barcode],
            )
        elif e.type == "patron_status" and e.data.get("status") in ("active", "blocked", "left"):
            db.execute(
                "UPDATE patrons SET status = ?, updated_at = ? WHERE id = ?",
                [e.data["status"], now, e.patron_id],
            )


def _conflict(
    db: Database, kind: str, row: dict[str, Any], now: str, other: str | None = None, **detail: Any
) -> None:
    db.execute(
        "INSERT INTO conflicts (kind, event_uuid, item_barcode, patron_id, other_patron_id, "
        "kiosk_id, at, detected_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(event_uuid, kind) DO NOTHING",
        [
            kind,
            row["uuid"],
            row["item_barcode"],
            row["patron_id"],
            other,
            row["kiosk_id"],
            row["eff"],
            now,
            json.dumps(detail, ensure_ascii=False, sort_keys=True),
        ],
    )


def rebuild_item(db: Database, barcode: str, now: str) -> None:
    """Replay every loan event of one item in the order they happened and rewrite its loans."""
    events = list(
        db.query(
            "SELECT e.uuid, e.type, e.kiosk_id, e.patron_id, e.item_barcode, e.data, "
            "COALESCE(r.effective_at, e.at) AS eff FROM events e "
            "LEFT JOIN received r ON r.uuid = e.uuid "
            "WHERE e.item_barcode = ? AND e.type IN ('checkout', 'checkin', 'renew') "
            "ORDER BY eff, COALESCE(r.kiosk_seq, e.seq), e.uuid",
            [barcode],
        )
    )
    marks = ",".join("?" * len(ITEM_CONFLICTS))
    db.execute(
        f"DELETE FROM conflicts WHERE item_barcode = ? AND kind IN ({marks})",
        [barcode, *ITEM_CONFLICTS],
    )
    item = db.execute("SELECT status FROM items WHERE barcode = ?", [barcode]).fetchone()
    if item is None:
        for row in events:
            _conflict(db, "unknown_item", row, now)
        return
    wanted = sorted({r["patron_id"] for r in events if r["patron_id"]})
    patrons = {
        r[0]
        for part in _chunks(wanted)
        for r in db.execute(
            f"SELECT id FROM patrons WHERE id IN ({','.join('?' * len(part))})", part
        )
    }
    loans: list[dict[str, Any]] = []
    open_: dict[str, Any] | None = None
    for row in events:
        data = json.loads(row["data"])
        kind, patron = row["type"], row["patron_id"]
        if kind == "checkout":
            if patron not in patrons:
                _conflict(db, "unknown_patron", row, now)
            elif open_ is not None and open_["patron_id"] == patron:
                open_["due_at"] = max(open_["due_at"], data["due_at"])
                open_["renewals"] += 1
                _conflict(db, "same_patron", row, now, patron, loan=open_["uuid"])
            else:
                if open_ is not None:
                    open_["returned_at"] = row["eff"]
                    _conflict(db, "transfer", row, now, open_["patron_id"], ended=open_["uuid"])
                open_ = {
                    "uuid": row["uuid"],
                    "item_barcode": barcode,
                    "patron_id": patron,
                    "checked_out_at": row["eff"],
                    "due_at": data["due_at"],
                    "returned_at": None,
                    "renewals": 0,
                }
                loans.append(open_)
        elif kind == "checkin":
            if open_ is None:
                _conflict(db, "return_not_on_loan", row, now)
            else:
                open_["returned_at"] = row["eff"]
                open_ = None
        elif open_ is not None and open_["patron_id"] == patron:  # renew
            open_["due_at"] = data["due_at"]
            open_["renewals"] += 1
        else:
            other = open_["patron_id"] if open_ else None
            _conflict(db, "renew_not_on_loan", row, now, other)
    _write_loans(db, barcode, loans, item[0], now)


def _write_loans(
    db: Database, barcode: str, loans: list[dict[str, Any]], status: str, now: str
) -> None:
    old = {r["uuid"]: r for r in db.query("SELECT * FROM loans WHERE item_barcode = ?", [barcode])}
    new = {loan["uuid"]: loan for loan in loans}
    gone = [u for u in old if u not in new]
    changed = [loan for u, loan in new.items() if u in old and _differs(old[u], loan)]
    # Close changed loans first, so the one-open-loan-per-item index never sees two.
    for loan in changed:
        db.execute(
            "UPDATE loans SET returned_at = ? WHERE uuid = ?",
            [loan["returned_at"] or now, loan["uuid"]],
        )
    for u in gone:
        db.execute("DELETE FROM loans WHERE uuid = ?", [u])
    for loan in sorted(new.values(), key=lambda x: x["returned_at"] is None):
        if loan["uuid"] in old and loan not in changed:
            continue
        db.execute(
            "INSERT INTO loans (uuid, item_barcode, patron_id, checked_out_at, due_at, "
            "returned_at, renewals) VALUES (:uuid, :item_barcode, :patron_id, :checked_out_at, "
            ":due_at, :returned_at, :renewals) ON CONFLICT(uuid) DO UPDATE SET "
            "patron_id = excluded.patron_id, checked_out_at = excluded.checked_out_at, "
            "due_at = excluded.due_at, returned_at = excluded.returned_at, "
            "renewals = excluded.renewals",
            loan,
        )
    is_out = any(loan["returned_at"] is None for loan in loans)
    if status in ("available", "on_loan") and status != ("on_loan" if is_out else "available"):
        db.execute(
            "UPDATE items SET status = ?, updated_at = ? WHERE barcode = ?",
            ["on_loan" if is_out else "available", now, barcode],
        )


def _differs(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return any(old[k] != new[k] for k in new)


def _patron_conflicts(db: Database, new: list[Event], since: str, now: str, rules: Rules) -> None:
    """Report loans over the limit, with a lost card, or by a blocked patron.

    Judged again for every loan of the patrons a batch touches that was open at or after the
    batch's earliest event, because the event that makes a loan a conflict (a loan at another
    kiosk, a lost card) may arrive after the loan itself.
    """
    patrons = {e.patron_id for e in new if e.patron_id}
    for barcode in {e.item_barcode for e in new if e.item_barcode}:
        patrons.update(
            r[0]
            for r in db.execute("SELECT patron_id FROM loans WHERE item_barcode = ?", [barcode])
        )
    for patron_id in sorted(patrons):
        rows = list(db.query("SELECT * FROM patrons WHERE id = ?", [patron_id]))
        if rows:
            _judge_patron(db, Patron.from_row(rows[0]), since, now, rules)


def _judge_patron(db: Database, patron: Patron, since: str, now: str, rules: Rules) -> None:
    loans = list(
        db.query(
            "SELECT l.uuid, l.item_barcode, l.patron_id, l.checked_out_at AS eff, l.returned_at, "
            "e.kiosk_id FROM loans l JOIN events e ON e.uuid = l.uuid WHERE l.patron_id = ?",
            [patron.id],
        )
    )
    cards = db.execute(
        "SELECT COALESCE(r.effective_at, e.at) AS eff, e.type, e.data FROM events e "
        "LEFT JOIN received r ON r.uuid = e.uuid "
        "WHERE e.patron_id = ? AND e.type IN ('card_lost', 'card_issued') ORDER BY eff",
        [patron.id],
    ).fetchall()
    known = {
        (r[0], r[1])
        for r in db.execute(
            "SELECT event_uuid, kind FROM conflicts WHERE patron_id = ?", [patron.id]
        )
    }
    limit = rules.limits(patron).max_loans
    for loan in loans:
        if loan["returned_at"] is not None and loan["returned_at"] < since:
            continue
        eff = loan["eff"]
        found: dict[str, dict[str, Any]] = {}
        if patron.status != "active":
            found["patron_blocked"] = {"status": patron.status}
        held = sum(
            1
            for other in loans
            if other["eff"] <= eff and (other["returned_at"] is None or other["returned_at"] > eff)
        )
        if held > limit:
            found["over_limit"] = {"count": held, "limit": limit}
        before = [c for c in cards if c[0] < eff]
        if before and before[-1][1] == "card_lost":
            found["lost_card"] = {"card": json.loads(before[-1][2]).get("card")}
        for kind, detail in found.items():
            if (loan["uuid"], kind) not in known:
                _conflict(db, kind, loan, now, **detail)
