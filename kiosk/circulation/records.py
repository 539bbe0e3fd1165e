"""Change master data: patrons, their cards, items and rules; each change is one event.

Every change is a command run by the one handler (handler.py); every write goes through a
projection (kiosk/circulation/projections/master.py). Rows decided elsewhere (an import's, an
undone import's, the hub's feed, the demo school) are copies, each change an event too
(`copy_rows`), a SIP2 library system's answer about a card as well. `put_patron`/`put_item`
are the one unlogged way, for tests and benchmarks laying out a store.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlite_utils import Database

from kiosk.circulation import cards as card_forms
from kiosk.circulation.commands import (
    Copy,
    CopyRows,
    EditItem,
    EditPatron,
    IssueCard,
    RecordAdminAction,
    RemoveItemType,
    ReportCardLost,
    SaveItemType,
    SetItemStatus,
    SetItemType,
    SetPatronStatus,
    SetRules,
)
from kiosk.circulation.events import Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.models import location_key
from kiosk.circulation.projections.master import ITEM_FIELDS, PATRON_FIELDS
from kiosk.circulation.projector import project
from kiosk.circulation.rules import rules_rows
from kiosk.circulation.store import Event, Store, fetch


def copy_rows(store: Store, copies: Iterable[Copy], actor: str) -> Outcome:
    """Copy rows decided elsewhere into the store, each change an event; unchanged rows are left.

    The outcome's state (`models.Copied`) says of each copy, in order, 'inserted', 'updated' or
    'same', with the rows as they were. Called inside a write (an import's batch, the hub's
    page) it joins that transaction.
    """
    done = handle(store, CopyRows(tuple(copies), actor))
    if done.refusal is not None:  # only a type that is no copy: a mistake in the code
        raise ValueError(f"not a copy: {done.refusal.params}")
    return done


def patron_copy(row: Mapping[str, Any], cards: Iterable[str] | None = None) -> Copy:
    """Return an import's patron row (and the cards it gives them) as a copy to save."""
    record = {k: row[k] for k in PATRON_FIELDS if k in row}
    return Copy("patron_saved", record["id"], record, tuple(map(card_forms.canonical, cards or ())))


def item_copy(row: Mapping[str, Any]) -> Copy:
    """Return an import's item row as a copy to save (its loan status is left alone)."""
    record = {k: row[k] for k in ITEM_FIELDS if k in row and k != "status"}
    return Copy("item_saved", record["barcode"], record)


# -- unlogged copies: fixtures of tests and benchmarks -----------------------------------------


def _unlogged(
    db: Database, type: str, key: str, row: Mapping[str, Any], at: str, **kw: Any
) -> None:
    """Project a copy of a row without logging it (see put_patron: who may, and why)."""
    data = {"key": key, "row": dict(row), **kw}
    project(db, Event(type=type, at=at, kiosk_id="", data=data, uuid=""))  # no uuid4: never logged


def put_patron(db: Database, row: Mapping[str, Any], cards: Iterable[str], at: str) -> str:
    """Insert or update a patron and attach cards, unlogged; return 'inserted', 'updated' or 'same'.

    Only for tests and benchmarks laying out a store. Imports, their undo, the hub's feed, a
    SIP2 library system's answers and the demo save rows as events (`copy_rows`); a test
    (tests/circulation/test_claims.py, UNLOGGED_CALLERS) fails on any caller in kiosk/.
    """
    record = {k: row[k] for k in PATRON_FIELDS if k in row}
    # RFID UIDs are kept in upper case, with the decimal printed on the card beside them.
    cards = [card_forms.canonical(c) for c in cards]
    old = fetch(db, "SELECT * FROM patrons WHERE id = ?", [record["id"]])
    if (
        old
        and all(old[0].get(k) == v for k, v in record.items())
        and _has_cards(db, record["id"], cards)
    ):
        return "same"
    _unlogged(db, "patron_saved", record["id"], record, at, cards=cards)
    return "updated" if old else "inserted"


def _has_cards(db: Database, patron_id: str, cards: Iterable[str]) -> bool:
    have = {r[0] for r in db.execute("SELECT code FROM cards WHERE patron_id = ?", [patron_id])}
    return set(cards) <= have


def put_item(db: Database, row: Mapping[str, Any], at: str) -> str:
    """Insert or update an item, unlogged (its loan status is left alone); return what happened.

    Only for tests and benchmarks laying out a store (as put_patron says).
    """
    record = {k: row[k] for k in ITEM_FIELDS if k in row and k != "status"}
    old = fetch(db, "SELECT * FROM items WHERE barcode = ?", [record["barcode"]])
    if old and all(old[0].get(k) == v for k, v in record.items()):
        return "same"
    _unlogged(db, "item_saved", record["barcode"], record, at)
    return "updated" if old else "inserted"


def report_card_lost(
    store: Store, code: str, actor: str, patron_id: str | None = None
) -> Event | None:
    """Mark a card lost so it is refused from now on; None if there is no such card (of hers)."""
    done = handle(store, ReportCardLost(code, actor, patron_id))
    return done.event if done.ok else None


def issue_card(store: Store, patron_id: str, code: str, actor: str) -> Event | Refusal:
    """Give a patron a new (replacement) card, kept in its canonical form; or say why not."""
    return _decided(handle(store, IssueCard(patron_id, code.strip(), actor)))


def set_item_status(store: Store, barcode: str, status: str, actor: str) -> Event | Refusal:
    """Mark an item lost, damaged, withdrawn or available again; or say why not."""
    return _decided(handle(store, SetItemStatus(barcode, status, actor)))


def set_patron_status(store: Store, patron_id: str, status: str, actor: str) -> Event | Refusal:
    """Block, unblock or retire a patron; or say why not."""
    return _decided(handle(store, SetPatronStatus(patron_id, status, actor)))


def _decided(done: Outcome) -> Event | Refusal:
    return done.refusal if done.refusal is not None else done.event


def set_rules(store: Store, rules_config: Any, actor: str) -> Event:
    """Replace the rules and calendar in the store with those of a [rules] config section."""
    rows, policy, closed = rules_rows(rules_config)
    done = handle(store, SetRules(tuple(rows), policy, tuple(closed), actor))
    if done.refusal is not None:  # the config loader checked these already
        raise ValueError(f"rules refused: {done.refusal.params}")
    return done.event


def seed_rules(store: Store, rules_config: Any) -> Event | None:
    """Put the config's default rules in the store the first time; later edits win."""
    # Item types are rules rows too; only roles and grades say the config was loaded before.
    if store.value("SELECT count(*) FROM rules WHERE scope NOT LIKE 'type:%'"):
        return None
    return set_rules(store, rules_config, actor="config")


def save_item_type(store: Store, cmd: SaveItemType) -> Event | Refusal:
    """Add an item type (an empty key makes a new one) or change one; or say why not."""
    if not cmd.key:
        cmd = replace(cmd, key="t" + uuidlib.uuid4().hex[:8])  # never shown: the name is
    return _decided(handle(store, cmd))


def remove_item_type(store: Store, key: str, actor: str) -> Event | Refusal:
    """Remove one of the librarian's item types that no book has; or say why not."""
    return _decided(handle(store, RemoveItemType(key, actor)))


def set_item_type(store: Store, barcode: str, item_type: str, actor: str) -> Event | Refusal:
    """Give an item a type (and so its loan rules); or say why not."""
    return _decided(handle(store, SetItemType(barcode, item_type, actor)))


def edit_patron(store: Store, patron_id: str, changes: Mapping[str, Any], actor: str) -> Event:
    """Change a patron's name, role, grade or class from the dashboard."""
    return _edited(handle(store, EditPatron(patron_id, dict(changes), actor)))


def edit_item(store: Store, barcode: str, changes: Mapping[str, Any], actor: str) -> Event:
    """Change an item's title, author, ISBN, call number or location from the dashboard."""
    if "location" in changes:  # `图书馆` is kept as `library`, as imports keep it
        changes = {**changes, "location": location_key(str(changes["location"]))}
    return _edited(handle(store, EditItem(barcode, dict(changes), actor)))


def _edited(done: Outcome) -> Event:
    if done.refusal is not None:
        raise ValueError("nothing to change" if done.reason == "nothing_to_change" else done.reason)
    return done.event


def record_admin_action(store: Store, type: str, actor: str, **data: Any) -> Event:
    """Record an admin action that changes no table (a password set, an export) as an event."""
    done = handle(store, RecordAdminAction(type, data, actor))
    if done.refusal is not None:
        raise ValueError(f"not an admin action: {type}")
    return done.event
