"""What the hub lets a kiosk change: what happened at its desk, not the district's master data.

A kiosk's token proves which kiosk sent an event, not that the event is true, and a stolen or
broken kiosk must not be able to rewrite every kiosk's students and cards. So each event type
has written rules (docs/sync.md, "Trust"):

| type | may carry | may change at the hub |
|---|---|---|
| checkout, checkin, renew | patron_id, item_barcode, data | that item's loans (by replay) |
| undo | item_barcode, data.undone | that item's loans: takes back its own kiosk's event |
| | | of that item (and patron), if not undone already |
| visit | patron_id | nothing: a session the kiosk saw, counted in the reading figures |
| card_lost | patron_id, data.card | that card's status to lost, if it is that patron's card |
| card_issued | patron_id, data.card | a new card for a known patron, or that patron's own card |
| item_status | item_barcode, data.status lost or damaged | a known item's status (by replay) |
| card_replaced | patron_id, data.old, data.new | old card lost, new card issued, as above |
| item_status withdrawn or available, patron_status | | nothing: the hub's librarian decides |
| item_withdrawn, year_promoted, leavers_closed, holiday_loans_set | | nothing: done at the hub |
| the collection's other events (stocktake, holds, lost) | | their own tables, item statuses |
| rules_set, import, other types | anything | nothing (stored for the record) |

An event that breaks its rule is stored like every event and listed as a conflict with the rule
it broke (`card_moved`, `blank_card`, `unknown_card`, `not_kiosk_authority`, `undo_unknown_event`,
`undo_foreign`, `undo_mismatch`, `undo_repeated`), never applied. A refused undo stays out of
every later replay of its item (`refused`), so another kiosk, or a stolen token, cannot erase
a loan it did not make; so does a refused `item_status` (they are replayed with the book's loans).
The identifiers themselves (no control characters, sane sizes) are checked earlier, in
`protocol.check_event`, where a bad one refuses the whole batch.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.decide import UNDOABLE
from kiosk.circulation.store import Event
from kiosk.sync.protocol import has_control

MAX_CARD = 64
UNDO_REFUSALS = ("undo_unknown_event", "undo_foreign", "undo_mismatch", "undo_repeated")
# Kiosk events replayed with a book's loans whose refusal must keep them out of every replay.
CHECKED_IN_REPLAY = ("undo", "item_status")
KEPT_OUT = (*UNDO_REFUSALS, "not_kiosk_authority")
DESK_ITEM_STATUSES = ("lost", "damaged")
# Master data the hub's librarian owns; a kiosk's change is listed, never applied. With a hub,
# the new school year, withdrawals and holiday loans are done at the hub (docs/collection.md).
HUB_ONLY = (
    "patron_status",
    "year_promoted",
    "leavers_closed",
    "item_withdrawn",
    "holiday_loans_set",
)


def allowed(db: Database, event: Event, now: str) -> bool:
    """Return whether the hub applies this kiosk event's master-data change; list it if not."""
    refusal = _refusal(db, event)
    if refusal is None:
        return True
    kind, detail, other = refusal
    _list(db, event, kind, now, other, detail)
    return False


def _refusal(db: Database, e: Event) -> tuple[str, dict[str, Any], str | None] | None:
    """Return (conflict kind, detail, other patron) when the event breaks its rule."""
    card = e.data.get("card")
    if e.type in ("card_lost", "card_issued"):
        if not isinstance(card, str) or not card.strip() or len(card) > MAX_CARD:
            return "blank_card", {"card": card if isinstance(card, str) else None}, None
        if has_control(card):
            return "blank_card", {"card": card.encode("unicode_escape").decode()}, None
        row = db.execute("SELECT patron_id FROM cards WHERE code = ?", [card]).fetchone()
        owner = row[0] if row else None
        if e.type == "card_lost" and owner is None:
            return "unknown_card", {"card": card}, None
        if e.type == "card_issued" and not _patron_exists(db, e.patron_id):
            return "unknown_patron", {"card": card}, None
        if owner is not None and owner != e.patron_id:
            return "card_moved", {"card": card}, owner
        return None
    if e.type == "item_status":
        status = e.data.get("status")
        if status not in DESK_ITEM_STATUSES:
            return "not_kiosk_authority", {"status": status}, None
        return None
    if e.type == "card_replaced":  # a lost card and a new one, as card_lost and card_issued
        old, new = e.data.get("old"), e.data.get("new")
        if not all(isinstance(c, str) and c.strip() and len(c) <= MAX_CARD for c in (old, new)):
            return "blank_card", {"card": new if isinstance(new, str) else None}, None
        owners = dict(
            db.execute("SELECT code, patron_id FROM cards WHERE code IN (?, ?)", [old, new])
        )
        if owners.get(old) != e.patron_id:
            return "unknown_card", {"card": old}, None
        if owners.get(new, e.patron_id) != e.patron_id:
            return "card_moved", {"card": new}, owners[new]
        return None
    if e.type == "undo":
        return _undo_refusal(db, e)
    if e.type in HUB_ONLY:
        return "not_kiosk_authority", {"status": e.data.get("status")}, None
    return None


def _undo_refusal(db: Database, e: Event) -> tuple[str, dict[str, Any], str | None] | None:
    """Return why an undo may not be applied: it must name this kiosk's own event, unundone."""
    undone = e.data.get("undone")
    if not isinstance(undone, str):
        return "undo_unknown_event", {"undone": None}, None
    # `received` records which kiosk sent each event; the hub's own events have no row there.
    row = db.execute(
        "SELECT e.type, e.item_barcode, e.patron_id, r.kiosk_id FROM events e "
        "LEFT JOIN received r ON r.uuid = e.uuid WHERE e.uuid = ?",
        [undone],
    ).fetchone()
    detail: dict[str, Any] = {"undone": undone}
    if row is None or row[0] not in UNDOABLE:
        return "undo_unknown_event", {**detail, "undone_type": row[0] if row else None}, None
    kind, item, patron, sender = row
    detail.update(undone_type=kind, undone_item=item, undone_kiosk=sender or "hub")
    if sender != e.kiosk_id:
        return "undo_foreign", detail, patron
    if item != e.item_barcode or (patron is not None and patron != e.patron_id):
        return "undo_mismatch", detail, patron
    if db.execute(
        "SELECT 1 FROM events u WHERE u.item_barcode = ? AND u.type = 'undo' AND u.uuid != ? "
        "AND json_extract(u.data, '$.undone') = ? AND NOT EXISTS (SELECT 1 FROM conflicts c "
        f"WHERE c.event_uuid = u.uuid AND c.kind IN ({_marks(UNDO_REFUSALS)})) LIMIT 1",
        [item, e.uuid, undone, *UNDO_REFUSALS],
    ).fetchone():
        return "undo_repeated", detail, None
    return None


def refused(db: Database, uuid: str) -> bool:
    """Return whether the hub refused this kiosk event (listed), so no replay applies it."""
    found = db.execute(
        f"SELECT 1 FROM conflicts WHERE event_uuid = ? AND kind IN ({_marks(KEPT_OUT)})",
        [uuid, *KEPT_OUT],
    ).fetchone()
    return found is not None


def _marks(values: tuple[str, ...]) -> str:
    return ",".join("?" * len(values))


def _patron_exists(db: Database, patron_id: str | None) -> bool:
    found = db.execute("SELECT 1 FROM patrons WHERE id = ?", [patron_id]).fetchone()
    return bool(patron_id) and found is not None


def list_malformed(db: Database, event: Event, now: str, error: str) -> None:
    """List a kiosk event whose data the hub could not apply (missing or mistyped fields)."""
    _list(db, event, "malformed", now, None, {"error": error})


def _list(
    db: Database, e: Event, kind: str, now: str, other: str | None, detail: dict[str, Any]
) -> None:
    db.execute(
        "INSERT INTO conflicts (kind, event_uuid, item_barcode, patron_id, other_patron_id, "
        "kiosk_id, at, detected_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(event_uuid, kind) DO NOTHING",
        [
            kind,
            e.uuid,
            e.item_barcode,
            e.patron_id,
            other,
            e.kiosk_id,
            e.at,
            now,
            json.dumps({"type": e.type, **detail}, ensure_ascii=False, sort_keys=True),
        ],
    )
