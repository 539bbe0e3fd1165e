"""What the hub lets a kiosk change: what happened at its desk, not the district's master data.

A kiosk's token proves which kiosk sent an event, not that the event is true, and a stolen or
broken kiosk must not be able to rewrite every kiosk's students, cards, holds and stocktakes.
So every event type has one written rule, in the table `RULES` below (docs/sync.md, "Trust").
Each event is first checked against its type's schema (kiosk/circulation/schemas.py: data of
the right kind, no control characters, real times); then it may name only what the kiosk may
touch:

| type | may change at the hub |
|---|---|
| checkout, checkin, renew, visit | that item's loans (by replay); a visit nothing |
| undo | that item's loans: takes back its own kiosk's event of that item, if not undone |
| card_lost, card_issued, card_replaced | that patron's own cards (in any form), never another's |
| item_status lost or damaged | a known item's status (by replay) |
| item_lost, item_damaged | the book's status, and the loan it names if that is a loan of that |
| | book to that patron |
| item_found | a book that is lost at the hub (or reported lost before) |
| compensation_recorded, repair_started, repair_done | an incident the same kiosk opened |
| hold_placed | a new hold of a known book and student |
| hold_ready, hold_fulfilled, hold_expired, hold_cancelled | a hold the same kiosk placed |
| stocktake_started | a new stocktake of its own |
| stocktake_scan, _paused, _resumed, _finished | a stocktake the same kiosk started |
| corner_lent | new loans (one per book, the ids the kiosk derives) to a known patron |
| reading_list_saved | a reading list's name, grade, term and target (any list: lists are |
| | edited at any dashboard; the hub's order decides between two edits) |
| reading_list_title_added | a title of the hub's catalogue (its ISBN, title and author as the |
| | hub has them) on a list the hub holds |
| reading_list_title_removed | a title off a list the hub holds |
| star_rules_saved | a reading stars' period and its rules (any: edited at any dashboard, |
| | like the lists), if the dashboard's own decision would have saved them |
| patron_status, item_withdrawn, year_promoted, ... | nothing: the hub's librarian decides |
| rules_set, item_type_saved, item_type_removed, import, other types | nothing (for the record) |

An event that breaks its rule is stored like every event and listed as a conflict with the rule
it broke, never applied. A refused event that is replayed with a book's loans (an undo, a desk's
status, a lost book, a class corner...) stays out of every later replay of its item (`refused`).
The identifiers themselves (no control characters, sane sizes) are checked earlier, in
`protocol.check_event`, where a bad one refuses the whole batch.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from kiosk.circulation import cards as card_forms
from kiosk.circulation import schemas
from kiosk.circulation.decide import UNDOABLE
from kiosk.circulation.events import Event, Refusal
from kiosk.circulation.reading import stars
from kiosk.sync import hubstore

UNDO_REFUSALS = ("undo_unknown_event", "undo_foreign", "undo_mismatch", "undo_repeated")
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
# Kiosk events replayed with a book's loans: a refused one is kept out of every replay.
CHECKED_IN_REPLAY = (
    "undo",
    "item_status",
    "item_lost",
    "item_damaged",
    "item_found",
    "repair_done",
    "corner_lent",
)
OWNERSHIP = (
    "not_own_loan",
    "not_own_hold",
    "not_own_stocktake",
    "not_own_incident",
    "not_lost",
)
KEPT_OUT = (
    *UNDO_REFUSALS,
    *OWNERSHIP,
    "not_kiosk_authority",
    "malformed",
    "blank_card",
    "unknown_patron",
)


@dataclass(frozen=True)
class Refused:
    """Why the hub does not apply an event: the conflict kind, what it named, the other patron."""

    kind: str
    detail: dict[str, Any] = field(default_factory=dict)
    other: str | None = None


Rule = Callable[[Database, Event], Refused | None]


def allowed(db: Database, event: Event, now: str) -> bool:
    """Return whether the hub applies this kiosk event; list it as a conflict if not."""
    refusal = refusal_of(db, event)
    if refusal is None:
        return True
    _list(db, event, refusal.kind, now, refusal.other, refusal.detail)
    return False


def refusal_of(db: Database, e: Event) -> Refused | None:
    """Return why the event breaks its type's rule (the table `RULES`), or None."""
    if e.type in HUB_ONLY:
        return Refused("not_kiosk_authority", {"status": _shown(e.data.get("status"))})
    wrong = schemas.problem(e)
    if wrong is not None:
        kind = "blank_card" if wrong.kind == "card" else "malformed"
        value = (
            e.data.get(wrong.place.removeprefix("data."))
            if wrong.place.startswith("data.")
            else None
        )
        return Refused(kind, {"field": wrong.place, "problem": wrong.code, "value": _shown(value)})
    rule = RULES.get(e.type)
    return rule(db, e) if rule is not None else None


def _shown(value: Any) -> Any:
    """Return a value as the conflict list keeps it: short, and control characters escaped."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.encode("unicode_escape").decode("ascii") if schemas.has_control(text) else text
    return text if len(text) <= 60 else text[:57] + "..."


# -- cards: the patron's own, in any form -----------------------------------------------------


def _owner(db: Database, code: str) -> str | None:
    """Return the patron holding a card in any of its forms (kiosk/circulation/cards.py)."""
    found = card_forms.find(db, code)
    return str(found[1]) if found else None


def _card_lost(db: Database, e: Event) -> Refused | None:
    card = str(e.data["card"])
    owner = _owner(db, card)
    if owner is None:
        return Refused("unknown_card", {"card": card})
    if owner != e.patron_id:
        return Refused("card_moved", {"card": card}, owner)
    return None


def _card_issued(db: Database, e: Event) -> Refused | None:
    card = str(e.data["card"])
    if not _known(db, "patrons", "id", e.patron_id):
        return Refused("unknown_patron", {"card": card})
    owner = _owner(db, card)
    if owner is not None and owner != e.patron_id:
        return Refused("card_moved", {"card": card}, owner)
    return None


def _card_replaced(db: Database, e: Event) -> Refused | None:
    """A lost card and a new one, as card_lost and card_issued."""
    old, new = str(e.data["old"]), str(e.data["new"])
    if _owner(db, old) != e.patron_id:
        return Refused("unknown_card", {"card": old})
    owner = _owner(db, new)
    if owner is not None and owner != e.patron_id:
        return Refused("card_moved", {"card": new}, owner)
    return None


def _item_status(db: Database, e: Event) -> Refused | None:
    status = e.data.get("status")
    if status not in DESK_ITEM_STATUSES:
        return Refused("not_kiosk_authority", {"status": status})
    return None


# -- undo: its own kiosk's event of the same book ---------------------------------------------


def _undo(db: Database, e: Event) -> Refused | None:
    """Return why an undo may not be applied: it must name this kiosk's own event, unundone."""
    undone = str(e.data["undone"])
    # `received` records which kiosk sent each event; the hub's own events have no row there.
    row = db.execute(
        "SELECT e.type, e.item_barcode, e.patron_id, r.kiosk_id FROM events e "
        "LEFT JOIN received r ON r.uuid = e.uuid WHERE e.uuid = ?",
        [undone],
    ).fetchone()
    detail: dict[str, Any] = {"undone": undone}
    if row is None or row[0] not in UNDOABLE:
        return Refused("undo_unknown_event", {**detail, "undone_type": row[0] if row else None})
    kind, item, patron, sender = row
    detail.update(undone_type=kind, undone_item=item, undone_kiosk=sender or "hub")
    if sender != e.kiosk_id:
        return Refused("undo_foreign", detail, patron)
    if item != e.item_barcode or (patron is not None and patron != e.patron_id):
        return Refused("undo_mismatch", detail, patron)
    if db.execute(
        "SELECT 1 FROM events u WHERE u.item_barcode = ? AND u.type = 'undo' AND u.uuid != ? "
        "AND json_extract(u.data, '$.undone') = ? AND NOT EXISTS (SELECT 1 FROM conflicts c "
        f"WHERE c.event_uuid = u.uuid AND c.kind IN ({_marks(UNDO_REFUSALS)})) LIMIT 1",
        [item, e.uuid, undone, *UNDO_REFUSALS],
    ).fetchone():
        return Refused("undo_repeated", detail)
    return None


# -- the collection: its own loans, holds, incidents and stocktakes ---------------------------


def _loan_of(db: Database, loan_uuid: str, barcode: str) -> tuple[str, str] | None:
    """Return (book, patron) of a loan the hub holds or will replay: a checkout or a corner's."""
    row = (
        db.execute(
            "SELECT item_barcode, patron_id FROM loans WHERE uuid = ?", [loan_uuid]
        ).fetchone()
        or db.execute(
            "SELECT item_barcode, patron_id FROM events WHERE uuid = ? AND type = 'checkout'",
            [loan_uuid],
        ).fetchone()
    )
    if row is None:  # a class corner's loan: its id is in the box of a corner_lent event
        row = db.execute(
            "SELECT ?, e.patron_id FROM events e WHERE e.type = 'corner_lent' AND EXISTS "
            "(SELECT 1 FROM json_each(e.data, '$.items') WHERE json_extract(value, "
            "'$.barcode') = ? AND json_extract(value, '$.loan_uuid') = ?) LIMIT 1",
            [barcode, barcode, loan_uuid],
        ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def _incident(db: Database, e: Event) -> Refused | None:
    """A book lost or damaged: the loan it closes must be that book's loan to that patron."""
    loan = e.data.get("loan_uuid")
    barcode = str(e.item_barcode)
    if loan is None:
        if e.patron_id is not None:  # without a loan the desk names nobody
            return Refused("not_own_loan", {"loan": None})
        return None
    found = _loan_of(db, str(loan), barcode)
    if found is None or found != (barcode, e.patron_id):
        detail = {"loan": loan, "loan_item": found[0] if found else None}
        return Refused("not_own_loan", detail, found[1] if found else None)
    return None


def _found(db: Database, e: Event) -> Refused | None:
    """A lost book turned up: it must be lost at the hub, or reported lost before."""
    row = db.execute("SELECT status FROM items WHERE barcode = ?", [e.item_barcode]).fetchone()
    if row is None:
        return None  # the replay lists it as an unknown book
    if row[0] == "lost":
        return None
    reported = db.execute(
        "SELECT 1 FROM events e WHERE e.item_barcode = ? AND e.at <= ? AND (e.type = 'item_lost' "
        "OR (e.type = 'item_status' AND json_extract(e.data, '$.status') = 'lost')) "
        f"AND NOT EXISTS (SELECT 1 FROM conflicts c WHERE c.event_uuid = e.uuid "
        f"AND c.kind IN ({_marks(KEPT_OUT)})) LIMIT 1",
        [e.item_barcode, e.at, *KEPT_OUT],
    ).fetchone()
    if reported is None or row[0] == "withdrawn":
        return Refused("not_lost", {"status": row[0]})
    return None


def _own_incident(db: Database, e: Event) -> Refused | None:
    """Compensation or repair: only for a lost or damaged record this kiosk opened."""
    incident = str(e.data["incident"])
    row = db.execute(
        "SELECT e.type, e.item_barcode, r.kiosk_id FROM events e "
        "JOIN received r ON r.uuid = e.uuid WHERE e.uuid = ?",
        [incident],
    ).fetchone()
    kinds = ("item_damaged",) if e.type.startswith("repair") else ("item_lost", "item_damaged")
    detail = {"incident": incident}
    if row is None or row[0] not in kinds or row[2] != e.kiosk_id or refused(db, incident):
        return Refused("not_own_incident", detail)
    if e.item_barcode is not None and e.item_barcode != row[1]:
        return Refused("not_own_incident", {**detail, "incident_item": row[1]})
    return None


def _new_hold(db: Database, e: Event) -> Refused | None:
    """A new hold: a known book and student, and an id no other kiosk's hold has."""
    if not _known(db, "items", "barcode", e.item_barcode):
        return Refused("unknown_item")
    if not _known(db, "patrons", "id", e.patron_id):
        return Refused("unknown_patron")
    row = db.execute("SELECT kiosk_id FROM holds WHERE id = ?", [e.data["hold"]]).fetchone()
    if row is not None and row[0] != e.kiosk_id:
        return Refused("not_own_hold", {"hold": e.data["hold"]})
    return None


def _own_hold(db: Database, e: Event) -> Refused | None:
    """A hold made ready, collected, expired or cancelled: one this kiosk placed, that book's."""
    hold = e.data["hold"]
    row = db.execute(
        "SELECT kiosk_id, item_barcode, patron_id FROM holds WHERE id = ?", [hold]
    ).fetchone()
    if row is None or row[0] != e.kiosk_id or (row[1], row[2]) != (e.item_barcode, e.patron_id):
        return Refused("not_own_hold", {"hold": hold}, row[2] if row else None)
    return None


def _new_stocktake(db: Database, e: Event) -> Refused | None:
    row = db.execute(
        "SELECT kiosk_id FROM stocktakes WHERE id = ?", [e.data["stocktake"]]
    ).fetchone()
    if row is not None and row[0] != e.kiosk_id:
        return Refused("not_own_stocktake", {"stocktake": e.data["stocktake"]})
    return None


def _own_stocktake(db: Database, e: Event) -> Refused | None:
    """A scan, pause or finish: of a stocktake this kiosk started.

    A kiosk's stocktake of the same scope as another's joins it (their scans merge); pausing or
    finishing the joined one is then for the kiosk that started it, or the hub's librarian.
    """
    named = e.data["stocktake"]
    row = db.execute(
        "SELECT s.kiosk_id, t.kiosk_id FROM stocktakes s "
        "LEFT JOIN stocktakes t ON t.id = s.joined_to WHERE s.id = ?",
        [named],
    ).fetchone()
    if row is None or row[0] != e.kiosk_id:
        return Refused("not_own_stocktake", {"stocktake": named})
    if e.type != "stocktake_scan" and row[1] is not None and row[1] != e.kiosk_id:
        return Refused("not_own_stocktake", {"stocktake": named, "joined_kiosk": row[1]})
    return None


def _corner(db: Database, e: Event) -> Refused | None:
    """A class corner's box: new loans, with the ids the kiosk derives from the box and book."""
    if not _known(db, "patrons", "id", e.patron_id):
        return Refused("unknown_patron")
    batch = str(e.data["batch"])
    for item in e.data["items"]:
        expected = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, batch + item["barcode"]))
        if item["loan_uuid"] != expected:
            return Refused("not_own_loan", {"loan": _shown(item["loan_uuid"])})
    return None


# -- reading lists: any dashboard edits them, with titles of the hub's catalogue ---------------


def _list_known(db: Database, e: Event) -> Refused | None:
    """A title added to or taken off a list: the list must be one the hub holds."""
    found = db.execute("SELECT 1 FROM reading_lists WHERE id = ?", [e.data["list"]]).fetchone()
    return None if found else Refused("unknown_list", {"list": _shown(e.data["list"])})


def _list_title(db: Database, e: Event) -> Refused | None:
    """A title put on a list: a title of the hub's catalogue, named as the catalogue names it.

    The key is its ISBN (or, without one, its title), and the title, author and ISBN must be a
    copy's at the hub: so no kiosk puts words on a child's screen that no book carries.
    """
    unknown = _list_known(db, e)
    if unknown is not None:
        return unknown
    d = e.data
    isbn, title, author = d.get("isbn") or "", d["title"], d.get("author") or ""
    where = "isbn = ? AND isbn != ''" if isbn else "isbn = '' AND title = ?"
    found = db.execute(
        f"SELECT 1 FROM items WHERE {where} AND title = ? AND author = ? "
        "AND status != 'withdrawn' LIMIT 1",
        [isbn or title, title, author],
    ).fetchone()
    if found is None or d["key"] != (isbn or title):
        return Refused("not_in_catalogue", {"key": _shown(d["key"]), "title": _shown(title)})
    return None


# -- reading stars: any dashboard saves a period's rules, as its own form would ----------------

# Where in the event each of the form's refusals lies, and its schemas.PROBLEMS code (the
# schema has checked each field alone).
STAR_PLACES = {
    "ends_before": ("last", "ends_before"),
    "too_long": ("last", "period_too_long"),
    "no_rule": ("min_books", "no_rule"),
}


def _star_rules(db: Database, e: Event) -> Refused | None:
    """A period's star rules: the period in order and not too long, and at least one rule.

    The same decision as the dashboard's form (`stars.decide_save`), so the hub stores only
    rules a librarian could have saved at any dashboard.
    """
    decided = stars.decide_save(str(e.data["rules"]), stars.form_of_event(e.data))
    if not isinstance(decided, Refusal):
        return None
    field, problem = STAR_PLACES.get(decided.reason, ("first", decided.reason))
    detail = {"field": f"data.{field}", "problem": problem}
    return Refused("malformed", {**detail, "value": _shown(e.data.get(field))})


# The one table of rules, by event type (the module's docstring says them in words).
RULES: dict[str, Rule] = {
    "card_lost": _card_lost,
    "card_issued": _card_issued,
    "card_replaced": _card_replaced,
    "item_status": _item_status,
    "undo": _undo,
    "item_lost": _incident,
    "item_damaged": _incident,
    "item_found": _found,
    "compensation_recorded": _own_incident,
    "repair_started": _own_incident,
    "repair_done": _own_incident,
    "hold_placed": _new_hold,
    "hold_ready": _own_hold,
    "hold_fulfilled": _own_hold,
    "hold_expired": _own_hold,
    "hold_cancelled": _own_hold,
    "stocktake_started": _new_stocktake,
    "stocktake_scan": _own_stocktake,
    "stocktake_paused": _own_stocktake,
    "stocktake_resumed": _own_stocktake,
    "stocktake_finished": _own_stocktake,
    "corner_lent": _corner,
    "reading_list_title_added": _list_title,
    "reading_list_title_removed": _list_known,
    "star_rules_saved": _star_rules,
}


def refused(db: Database, uuid: str) -> bool:
    """Return whether the hub refused this kiosk event (listed), so no replay applies it."""
    found = db.execute(
        f"SELECT 1 FROM conflicts WHERE event_uuid = ? AND kind IN ({_marks(KEPT_OUT)})",
        [uuid, *KEPT_OUT],
    ).fetchone()
    return found is not None


def _marks(values: tuple[str, ...]) -> str:
    return ",".join("?" * len(values))


def _known(db: Database, table: str, key: str, value: str | None) -> bool:
    found = db.execute(f"SELECT 1 FROM {table} WHERE {key} = ?", [value]).fetchone()
    return bool(value) and found is not None


def _list(
    db: Database, e: Event, kind: str, now: str, other: str | None, detail: dict[str, Any]
) -> None:
    names = {"uuid": e.uuid, "item_barcode": e.item_barcode, "patron_id": e.patron_id}
    event = {**names, "kiosk_id": e.kiosk_id}
    hubstore.list_conflict(db, kind, event, e.at, now, other, {"type": e.type, **detail})
