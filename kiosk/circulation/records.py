"""Change master data: patrons, their cards, items and rules; each change is one event."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database

from kiosk.circulation import cards as card_forms
from kiosk.circulation.rules import rules_rows
from kiosk.circulation.store import Event, Store

PATRON_FIELDS = ("id", "name", "role", "grade", "class_name", "status")
ITEM_FIELDS = ("barcode", "title", "author", "isbn", "call_number", "location", "status")


def put_patron(db: Database, row: Mapping[str, Any], cards: Iterable[str], at: str) -> str:
    """Insert or update a patron and attach cards; return 'inserted', 'updated' or 'same'."""
    record = {k: row[k] for k in PATRON_FIELDS if k in row}
    # RFID UIDs are kept in upper case, with the decimal printed on the card beside them.
    cards = [card_forms.canonical(c) for c in cards]
    old = list(db.query("SELECT * FROM patrons WHERE id = ?", [record["id"]]))
    if (
        old
        and all(old[0].get(k) == v for k, v in record.items())
        and _has_cards(db, record["id"], cards)
    ):
        return "same"
    outcome = "updated" if old else "inserted"
    db.execute(
        "INSERT INTO patrons (id, name, role, grade, class_name, status, updated_at) "
        "VALUES (:id, :name, :role, :grade, :class_name, :status, :at) "
        "ON CONFLICT(id) DO UPDATE SET name=excluded.name, role=excluded.role, "
        "grade=excluded.grade, class_name=excluded.class_name, updated_at=excluded.updated_at"
        + (", status=excluded.status" if "status" in row else ""),
        {"grade": None, "class_name": "", "status": "active", **record, "at": at},
    )
    for code in cards:
        db.execute(
            "INSERT INTO cards (code, patron_id, status, created_at, number) "
            "VALUES (?, ?, 'active', ?, ?) "
            "ON CONFLICT(code) DO UPDATE SET patron_id = excluded.patron_id",
            [code, record["id"], at, card_forms.number(code)],
        )
    return outcome


def _has_cards(db: Database, patron_id: str, cards: Iterable[str]) -> bool:
    have = {r[0] for r in db.execute("SELECT code FROM cards WHERE patron_id = ?", [patron_id])}
    return set(cards) <= have


def put_item(db: Database, row: Mapping[str, Any], at: str) -> str:
    """Insert or update an item (its loan status is left alone); return what happened."""
    record = {k: row[k] for k in ITEM_FIELDS if k in row and k != "status"}
    old = list(db.query("SELECT * FROM items WHERE barcode = ?", [record["barcode"]]))
    if old and all(old[0].get(k) == v for k, v in record.items()):
        return "same"
    db.execute(
        "INSERT INTO items "
        "(barcode, title, author, isbn, call_number, location, status, updated_at) "
        "VALUES (:barcode, :title, :author, :isbn, :call_number, :location, 'available', :at) "
        "ON CONFLICT(barcode) DO UPDATE SET title=excluded.title, author=excluded.author, "
        "isbn=excluded.isbn, call_number=excluded.call_number, location=excluded.location, "
        "updated_at=excluded.updated_at",
        {"author": "", "isbn": "", "call_number": "", "location": "library", **record, "at": at},
    )
    return "updated" if old else "inserted"


def report_card_lost(store: Store, code: str, actor: str) -> Event | None:
    """Mark a card lost so it is refused from now on; None if there is no such card."""
    with store.write() as db:
        row = db.execute("SELECT patron_id, status FROM cards WHERE code = ?", [code]).fetchone()
        if row is None:
            return None
        db.execute("UPDATE cards SET status = 'lost' WHERE code = ?", [code])
        return store.record(
            db, store.event("card_lost", actor=actor, patron_id=row[0], data={"card": code})
        )


def issue_card(store: Store, patron_id: str, code: str, actor: str) -> Event:
    """Give a patron a new (replacement) card."""
    with store.write() as db:
        db.execute(
            "INSERT INTO cards (code, patron_id, status, created_at) VALUES (?, ?, 'active', ?)",
            [code, patron_id, store.now()],
        )
        return store.record(
            db, store.event("card_issued", actor=actor, patron_id=patron_id, data={"card": code})
        )


def set_item_status(store: Store, barcode: str, status: str, actor: str) -> Event:
    """Mark an item lost, damaged, withdrawn or available again."""
    with store.write() as db:
        db.execute(
            "UPDATE items SET status = ?, updated_at = ? WHERE barcode = ?",
            [status, store.now(), barcode],
        )
        return store.record(
            db,
            store.event("item_status", actor=actor, item_barcode=barcode, data={"status": status}),
        )


def set_patron_status(store: Store, patron_id: str, status: str, actor: str) -> Event:
    """Block, unblock or retire a patron."""
    with store.write() as db:
        db.execute(
            "UPDATE patrons SET status = ?, updated_at = ? WHERE id = ?",
            [status, store.now(), patron_id],
        )
        return store.record(
            db,
            store.event("patron_status", actor=actor, patron_id=patron_id, data={"status": status}),
        )


def set_rules(store: Store, rules_config: Any, actor: str) -> Event:
    """Replace the rules and calendar in the store with those of a [rules] config section."""
    rows, policy, closed = rules_rows(rules_config)
    with store.write() as db:
        db.execute("DELETE FROM rules")
        db.execute("DELETE FROM policy")
        db.execute("DELETE FROM closed_days")
        db.table("rules").insert_all(rows, pk="scope")
        db.table("policy").insert_all(
            [{"key": k, "value": json.dumps(v)} for k, v in policy.items()], pk="key"
        )
        db.table("closed_days").insert_all([{"day": d, "note": ""} for d in closed], pk="day")
        data = {"rules": rows, "policy": policy, "closed_days": closed}
        return store.record(db, store.event("rules_set", actor=actor, data=data))


def seed_rules(store: Store, rules_config: Any) -> Event | None:
    """Put the config's default rules in the store the first time; later edits win."""
    if store.value("SELECT count(*) FROM rules"):
        return None
    return set_rules(store, rules_config, actor="config")


def edit_patron(store: Store, patron_id: str, changes: Mapping[str, Any], actor: str) -> Event:
    """Change a patron's name, role, grade or class from the dashboard."""
    fields = {k: v for k, v in changes.items() if k in ("name", "role", "grade", "class_name")}
    if not fields:
        raise ValueError("nothing to change")
    with store.write() as db:
        sets = ", ".join(f"{k} = :{k}" for k in fields)
        db.execute(
            f"UPDATE patrons SET {sets}, updated_at = :at WHERE id = :id",
            {**fields, "at": store.now(), "id": patron_id},
        )
        return store.record(
            db, store.event("patron_edited", actor=actor, patron_id=patron_id, data=fields)
        )


def edit_item(store: Store, barcode: str, changes: Mapping[str, Any], actor: str) -> Event:
    """Change an item's title, author, ISBN, call number or location from the dashboard."""
    allowed = ("title", "author", "isbn", "call_number", "location")
    fields = {k: v for k, v in changes.items() if k in allowed}
    if not fields:
        raise ValueError("nothing to change")
    with store.write() as db:
        sets = ", ".join(f"{k} = :{k}" for k in fields)
        db.execute(
            f"UPDATE items SET {sets}, updated_at = :at WHERE barcode = :barcode",
            {**fields, "at": store.now(), "barcode": barcode},
        )
        return store.record(
            db, store.event("item_edited", actor=actor, item_barcode=barcode, data=fields)
        )


def record_admin_action(store: Store, type: str, actor: str, **data: Any) -> Event:
    """Record an admin action that changes no table (a password set, an export) as an event."""
    with store.write() as db:
        return store.record(db, store.event(type, actor=actor, data=data))
