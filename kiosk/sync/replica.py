"""The kiosk's side of the data: its outbox of events, and the hub's master data applied locally.

The outbox is the events table: an event is waiting until `event_acks` has its seq. The hub's
feed is applied in short transactions; an item with events still waiting keeps the kiosk's own
view of its loan until the hub has them, so what a student just did never flickers away.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlite_utils import Database, Migrations

from kiosk.circulation.commands import Copy
from kiosk.circulation.queries import outbox
from kiosk.circulation.records import copy_rows
from kiosk.circulation.store import Event, Store
from kiosk.sync.protocol import event_to_wire

migrations = Migrations("sync")


@migrations(name="s001_sync_state")
def s001_sync_state(db: Database) -> None:
    """Keep the hub's epoch and this kiosk's feed cursor."""
    db.execute("CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def prepare(store: Store) -> None:
    """Add the sync state table to a kiosk store if it is not there yet."""
    if migrations.pending(store.db):
        with store._write_lock:
            migrations.apply(store.db)


def get_state(store: Store, key: str, default: str = "") -> str:
    """Return a sync state value."""
    value = store.value("SELECT value FROM sync_state WHERE key = ?", [key])
    return default if value is None else str(value)


def set_state(db: Database, **values: Any) -> None:
    """Set sync state values inside a write."""
    db.conn.executemany(
        "INSERT INTO sync_state (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [(k, str(v)) for k, v in values.items()],
    )


# -- the outbox ----------------------------------------------------------------------------


def pending(store: Store, limit: int) -> list[Event]:
    """Return the oldest events the hub has not acknowledged, except those it refused."""
    return [Event.from_row(r) for r in outbox.waiting_to_send(store.reader, limit)]


class Waiting(NamedTuple):
    """An event waiting for the hub, as it is sent: its seq, UUID, type and JSON object."""

    seq: int
    uuid: str
    type: str
    wire: str


def pending_wire(store: Store, limit: int) -> list[Waiting]:
    """Return the oldest events the hub has not acknowledged (except those it refused), each
    with the JSON object it is sent as."""
    out = []
    for seq, uuid, type_, wire in outbox.waiting_on_the_wire(store.reader, limit):
        if wire is None:  # data SQLite does not read as JSON: written as Python writes it
            event = Event.from_row(outbox.event_row(store.reader, seq))
            wire = json.dumps(event_to_wire(event), ensure_ascii=False, separators=(",", ":"))
        out.append(Waiting(seq, uuid, type_, wire))
    return out


def held(store: Store) -> list[int]:
    """Return the seqs of events the hub refused as malformed: kept, waiting, not sent again."""
    return outbox.held_seqs(store.reader)


def hold(store: Store, seq: int) -> None:
    """Stop sending one event the hub refuses, so the events after it still go."""
    with store.write() as db:
        set_state(db, held=json.dumps(sorted(set(outbox.held_seqs(db)) | {seq})))


def queue_length(store: Store) -> int:
    """Return how many events wait for the hub."""
    return outbox.events_waiting(store.reader)


def acknowledge(store: Store, seqs: Iterable[int]) -> None:
    """Mark events as held by the hub; only then are they no longer waiting.

    The hub has already committed them: this is a copy of its answer, so the commit is not
    synced to disk on its own (`durable=False`). A power cut that loses it only sends the
    events again, and the hub stores each event once, by its UUID.
    """
    now = store.now()
    with store.write(durable=False) as db:
        db.conn.executemany(
            "INSERT OR IGNORE INTO event_acks (seq, acked_at) VALUES (?, ?)",
            [(s, now) for s in seqs],
        )
        mark = outbox.acked_through(db)
        first_waiting = outbox.first_waiting_seq(db)
        if first_waiting is None:
            first_waiting = (db.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0) + 1
        set_state(db, acked_through=max(mark, int(first_waiting) - 1))


# -- applying the hub's data ---------------------------------------------------------------

ORDER = {
    "rules": 0,
    "patron": 1,
    "card": 2,
    "item": 3,
    "loan": 4,
    "lists": 5,
    "stars": 6,
}


HUB_ACTOR = "hub"  # the actor of the events that copy the hub's rows


def apply_changes(store: Store, changes: list[dict[str, Any]], **state: Any) -> int:
    """Apply one page of the hub's feed and move the cursor, in one transaction."""
    with store.write() as db:
        busy = outbox.items_waiting(db)
        lists, stars = outbox.lists_waiting(db), outbox.star_rules_waiting(db)
        copies = []
        for change in sorted(changes, key=lambda c: ORDER.get(c["kind"], 9)):
            kind, key, row = change["kind"], change["key"], change["row"]
            if kind == "rules":
                copies.append(Copy("rules_set", "", row))
            elif kind == "lists":
                if key not in lists:  # this kiosk's own edit is on its way up: keep it shown
                    copies.append(Copy("reading_list_synced", key, row))
            elif kind == "stars":
                if key not in stars:  # as the lists: this kiosk's own save is on its way up
                    copies.append(Copy("star_rules_synced", key, row))
            elif kind in ("patron", "card") or key not in busy:
                copies.append(_copy(kind, key, row))
        _copy_acknowledged(store, db, copies)
        set_state(db, **state)
    return len(changes)


def apply_snapshot_rows(store: Store, part: str, rows: list[dict[str, Any]]) -> None:
    """Apply one page of a snapshot part (rules, patrons, cards, items, lists, star rules)."""
    with store.write() as db:
        busy = outbox.items_waiting(db) if part == "items" else set()
        lists = outbox.lists_waiting(db) if part == "reading_lists" else set()
        stars = outbox.star_rules_waiting(db) if part == "star_rules" else set()
        copies = []
        for row in rows:
            if part == "reading_lists" and row["id"] not in lists:
                copies.append(Copy("reading_list_synced", row["id"], row))
            if part == "star_rules" and row["id"] not in stars:
                copies.append(Copy("star_rules_synced", row["id"], row))
            if part == "rules":
                copies.append(Copy("rules_set", "", row))
            elif part == "patrons":
                copies.append(_copy("patron", row["id"], row))
            elif part == "cards":
                copies.append(_copy("card", row["code"], row))
            elif part == "items" and row["barcode"] not in busy:
                copies.append(_copy("item", row["barcode"], row))
        _copy_acknowledged(store, db, copies)


def apply_snapshot_loans(store: Store, loans: list[dict[str, Any]], **state: Any) -> None:
    """Make the open loans those of the hub (except items still waiting), and set the cursor."""
    with store.write() as db:
        busy = outbox.items_waiting(db)
        by_item = {loan["item_barcode"]: loan for loan in loans}
        local = [
            r[0] for r in db.execute("SELECT item_barcode FROM loans WHERE returned_at IS NULL")
        ]
        copies = [
            _copy("loan", barcode, by_item.get(barcode))
            for barcode in sorted(set(local) | set(by_item))
            if barcode not in busy
        ]
        _copy_acknowledged(store, db, copies)
        set_state(db, **state)


def _copy(kind: str, key: str, row: dict[str, Any] | None) -> Copy:
    """Return one of the hub's rows (a patron, card, item or open loan) as the copy to save."""
    return Copy(f"{kind}_saved" if kind != "loan" else "loan_synced", key, row)


def _copy_acknowledged(store: Store, db: Database, copies: list[Copy]) -> None:
    """Save the hub's rows as events (unchanged rows: none), each already acknowledged.

    The events explain this kiosk's rows; they are the hub's own decisions, so they are never
    sent back up: their acknowledgement is written with them, in the page's transaction.
    """
    if not copies:
        return
    events = copy_rows(store, copies, HUB_ACTOR).events  # joins this write
    db.conn.executemany(
        "INSERT OR IGNORE INTO event_acks (seq, acked_at) VALUES (?, ?)",
        [(e.seq, e.at) for e in events],
    )
