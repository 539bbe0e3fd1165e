"""Projections of master data: patrons, cards, items and rules.

Recorded events (a card reported lost, an item's status, a dashboard edit, new rules) and the
copies of rows decided elsewhere (a row from an import, or from the hub's feed, a `*_saved`
event of `CopyRows` with the row in `data`) all write these tables here and nowhere else.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from kiosk.circulation import cards as card_forms
from kiosk.circulation.events import Event
from kiosk.circulation.models import ITEM_FIELDS as ITEM_FIELDS  # re-exported: records, imports
from kiosk.circulation.models import PATRON_FIELDS as PATRON_FIELDS
from kiosk.circulation.projector import projection

ITEM_TYPE_FIELDS = ("scope", "name", "lendable", "loan_days", "max_loans", "renewals")
PATRON_EDITS = ("name", "role", "grade", "class_name")
ITEM_EDITS = ("title", "author", "isbn", "call_number", "location")


def _has_patron(db: Database, patron_id: Any) -> bool:
    return db.execute("SELECT 1 FROM patrons WHERE id = ?", [patron_id]).fetchone() is not None


@projection("patron_saved")
def patron_saved(db: Database, e: Event) -> None:
    """Insert or update a patron (status only when the row has one) and attach its cards.

    `data`: {"key": id, "row": the patron's fields or None (removed), "cards": [codes]}. A
    removed patron stays while they still have loans or cards here.
    """
    key, row = e.data["key"], e.data.get("row")
    if row is None:
        db.execute(
            "DELETE FROM patrons WHERE id = ? AND NOT EXISTS (SELECT 1 FROM loans WHERE "
            "patron_id = ?) AND NOT EXISTS (SELECT 1 FROM cards WHERE patron_id = ?)",
            [key, key, key],
        )
        return
    record = {k: row[k] for k in PATRON_FIELDS if k in row}
    db.execute(
        "INSERT INTO patrons (id, name, role, grade, class_name, status, updated_at) "
        "VALUES (:id, :name, :role, :grade, :class_name, :status, :at) "
        "ON CONFLICT(id) DO UPDATE SET name=excluded.name, role=excluded.role, "
        "grade=excluded.grade, class_name=excluded.class_name, updated_at=excluded.updated_at"
        + (", status=excluded.status" if "status" in record else ""),
        {"grade": None, "class_name": "", "status": "active", **record, "at": e.at},
    )
    for code in e.data.get("cards", ()):
        code = card_forms.canonical(code)
        db.execute(
            "INSERT INTO cards (code, patron_id, status, created_at, number) "
            "VALUES (?, ?, 'active', ?, ?) "
            "ON CONFLICT(code) DO UPDATE SET patron_id = excluded.patron_id",
            [code, record["id"], e.at, card_forms.number(code)],
        )


@projection("card_saved")
def card_saved(db: Database, e: Event) -> None:
    """Insert or update one card as the hub has it; `data`: {"key": code, "row": or None}."""
    key, row = card_forms.canonical(e.data["key"]), e.data.get("row")
    if row is None:
        db.execute("DELETE FROM cards WHERE code = ?", [key])
        return
    if not _has_patron(db, row["patron_id"]):
        return  # its patron arrives in a later page
    db.execute(
        "INSERT INTO cards (code, patron_id, status, created_at, number) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(code) DO UPDATE SET patron_id = excluded.patron_id, status = excluded.status",
        [key, row["patron_id"], row["status"], e.at, card_forms.number(key)],
    )


@projection("item_saved")
def item_saved(db: Database, e: Event) -> None:
    """Insert or update an item; its status only when the row has one (an import leaves it).

    `data`: {"key": barcode, "row": the item's fields or None (removed while not on loan)}.
    """
    key, row = e.data["key"], e.data.get("row")
    if row is None:
        db.execute(
            "DELETE FROM items WHERE barcode = ? AND NOT EXISTS "
            "(SELECT 1 FROM loans WHERE item_barcode = ?)",
            [key, key],
        )
        return
    record = {k: row[k] for k in ITEM_FIELDS if k in row}
    # added_at as the items_added_at trigger would set it, without the trigger's second write.
    db.execute(
        "INSERT INTO items "
        "(barcode, title, author, isbn, call_number, location, status, item_type, updated_at, "
        "added_at) VALUES (:barcode, :title, :author, :isbn, :call_number, :location, :status, "
        ":item_type, :at, :at) "
        "ON CONFLICT(barcode) DO UPDATE SET title=excluded.title, author=excluded.author, "
        "isbn=excluded.isbn, call_number=excluded.call_number, location=excluded.location, "
        "updated_at=excluded.updated_at"
        + (", status=excluded.status" if "status" in record else "")
        + (", item_type=excluded.item_type" if "item_type" in record else ""),
        {
            "item_type": "book",
            "author": "",
            "isbn": "",
            "call_number": "",
            "location": "library",
            "status": "available",
            **record,
            "at": e.at,
        },
    )


@projection("card_lost")
def card_lost(db: Database, e: Event) -> None:
    """Refuse a card from now on."""
    card = e.data.get("card")
    if isinstance(card, str):
        db.execute("UPDATE cards SET status = 'lost' WHERE code = ?", [card_forms.stored(db, card)])


@projection("card_issued")
def card_issued(db: Database, e: Event) -> None:
    """Give a patron a card (a replacement takes over a code that was lost)."""
    card = e.data.get("card")
    if not isinstance(card, str) or not _has_patron(db, e.patron_id):
        return
    code = card_forms.stored(db, card)
    db.execute(
        "INSERT INTO cards (code, patron_id, status, created_at, number) "
        "VALUES (?, ?, 'active', ?, ?) ON CONFLICT(code) DO UPDATE SET "
        "patron_id = excluded.patron_id, status = 'active'",
        [code, e.patron_id, e.at, card_forms.number(code)],
    )


@projection("item_status")
def item_status(db: Database, e: Event) -> None:
    """Mark an item lost, damaged, withdrawn or available again."""
    db.execute(
        "UPDATE items SET status = ?, updated_at = ? WHERE barcode = ?",
        [e.data["status"], e.at, e.item_barcode],
    )


@projection("patron_status")
def patron_status(db: Database, e: Event) -> None:
    """Block, unblock or retire a patron."""
    db.execute(
        "UPDATE patrons SET status = ?, updated_at = ? WHERE id = ?",
        [e.data["status"], e.at, e.patron_id],
    )


def _edit(db: Database, table: str, key: str, value: Any, fields: dict[str, Any], at: str) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in fields)
    db.execute(
        f"UPDATE {table} SET {sets}, updated_at = :at WHERE {key} = :key",
        {**fields, "at": at, "key": value},
    )


@projection("patron_edited")
def patron_edited(db: Database, e: Event) -> None:
    """Change a patron's name, role, grade or class."""
    fields = {k: v for k, v in e.data.items() if k in PATRON_EDITS}
    _edit(db, "patrons", "id", e.patron_id, fields, e.at)


@projection("item_edited")
def item_edited(db: Database, e: Event) -> None:
    """Change an item's title, author, ISBN, call number or location."""
    fields = {k: v for k, v in e.data.items() if k in ITEM_EDITS}
    _edit(db, "items", "barcode", e.item_barcode, fields, e.at)


@projection("item_cover_set")
def item_cover_set(db: Database, e: Event) -> None:
    """Make a file of the covers folder the book's cover; `data`: {cover, width, height}."""
    db.execute("UPDATE items SET cover = ? WHERE barcode = ?", [e.data["cover"], e.item_barcode])


@projection("library_map_set")
def library_map_set(db: Database, e: Event) -> None:
    """Replace the library map; `data`: {boxes: [{name, row, col, classes}]}."""
    db.execute("DELETE FROM shelf_boxes")
    db.table("shelf_boxes").insert_all(e.data["boxes"])


@projection("rules_set")
def rules_set(db: Database, e: Event) -> None:
    """Replace the rules, policy and closed days; `data`: {rules, policy, closed_days}.

    The item types are rules rows too (`type:<key>`): the hub's whole rules replace them
    (`with_item_types`), a [rules] config section or the rules form leaves them as they are.
    """
    if e.data.get("with_item_types"):
        db.execute("DELETE FROM rules")
    else:
        db.execute("DELETE FROM rules WHERE scope NOT LIKE 'type:%'")
    db.execute("DELETE FROM policy")
    db.execute("DELETE FROM closed_days")
    db.table("rules").insert_all(e.data["rules"], pk="scope")
    db.table("policy").insert_all(
        [{"key": k, "value": json.dumps(v)} for k, v in e.data["policy"].items()], pk="key"
    )
    db.table("closed_days").insert_all(
        [{"day": d, "note": ""} for d in e.data["closed_days"]], pk="day"
    )


@projection("item_type_saved")
def item_type_saved(db: Database, e: Event) -> None:
    """Add or change one item type; `data`: its rules row (rules.item_type_row)."""
    row = {k: e.data.get(k) for k in ITEM_TYPE_FIELDS}
    db.execute(
        "INSERT INTO rules (scope, name, lendable, loan_days, max_loans, renewals) "
        "VALUES (:scope, :name, :lendable, :loan_days, :max_loans, :renewals) "
        "ON CONFLICT(scope) DO UPDATE SET name = excluded.name, lendable = excluded.lendable, "
        "loan_days = excluded.loan_days, max_loans = excluded.max_loans, "
        "renewals = excluded.renewals",
        row,
    )


@projection("item_type_removed")
def item_type_removed(db: Database, e: Event) -> None:
    """Remove one item type; `data`: {scope (`type:<key>`), name}."""
    db.execute("DELETE FROM rules WHERE scope = ?", [e.data["scope"]])


@projection("item_type_set")
def item_type_set(db: Database, e: Event) -> None:
    """Give an item its type; `data`: {item_type}."""
    db.execute(
        "UPDATE items SET item_type = ?, updated_at = ? WHERE barcode = ?",
        [e.data["item_type"], e.at, e.item_barcode],
    )
