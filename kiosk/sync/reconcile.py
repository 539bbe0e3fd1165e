"""Receive kiosk events at the hub and decide the loans in the order things happened.

A batch is stored and applied in one transaction, so the hub acknowledges only what it durably
holds. Each item's loan events are applied through the kiosk's own projections in kiosk-clock
order (corrected by the kiosk's measured clock offset): forward from the item's current loan when
they come after the last event applied to it, else by replaying the item from its first event,
so an event that arrives a week late lands where it happened. The rules (docs/sync.md says why):

- checkout of a book nobody has: a loan.
- checkout by the patron who already has it: a renewal (reported as `same_patron`).
- checkout by another patron: the earlier loan ends there and the later one stands (`transfer`).
- checkin: ends whatever loan is open at that moment, whoever made it and wherever.
- checkin of a book not on loan at that moment: nothing to end (`return_not_on_loan`).
- renew of a loan the patron does not have at that moment: ignored (`renew_not_on_loan`).
- undo: the loan is put back as it was before the event it names, only when that is the same
  kiosk's own event of the same book (kiosk/sync/trust.py); else it is listed (`undo_foreign`,
  `undo_unknown_event`, `undo_mismatch`, `undo_repeated`) and no replay applies it.
- item_lost, item_damaged: the loan they name ends there (closed as lost or damaged), when it
  is that book's loan to that patron; corner_lent: a loan for each book of the box that is on
  the shelf at that moment. They are replayed with the book's loan events (docs/collection.md,
  "At the hub").
- every kiosk event must first fit its type's schema (kiosk/circulation/schemas.py) and its
  rule in kiosk/sync/trust.py (a kiosk names only its own holds, stocktakes and incidents);
  one that does not is listed as a conflict in words and applied nowhere.
- item_status from a kiosk's desk (lost, damaged): the book's status at that moment, replayed with
  its loan events too, so the order of arrival does not decide it.
- a checkout over the patron's limit, after a card of theirs was reported lost, or by a blocked
  patron: the loan stands (the book is out) and it is reported (`over_limit`, `lost_card`,
  `patron_blocked`).
- events for an item or patron the hub does not know: stored, reported (`unknown_item`,
  `unknown_patron`), never applied.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Any

from sqlite_utils import Database

from kiosk.circulation import schemas
from kiosk.circulation.clock import parse_stamp
from kiosk.circulation.collection import EVENT_TYPES as COLLECTION_EVENTS
from kiosk.circulation.models import Patron
from kiosk.circulation.projections.loans import open_loan
from kiosk.circulation.projector import project, project_many
from kiosk.circulation.rules import Rules, load_rules
from kiosk.circulation.store import Event, Store, fetch
from kiosk.sync import hubstore, trust
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
    """Return a checked UTC stamp (`...Z`) moved back by `seconds`, written as `stamp` writes it."""
    if not seconds:
        return at
    moved = dt.datetime.fromisoformat(at[:-1]) - dt.timedelta(seconds=seconds)
    return moved.isoformat(timespec="milliseconds") + "Z"


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
        stored = [_stored(e, correction) for e in new]
        _insert_rows(db, STORE_EVENT, [_event_values(r) for r in stored])
        _insert_rows(
            db,
            STORE_RECEIPT,
            [
                (r["uuid"], r["kiosk_id"], r["kseq"], now, offset, r["eff"], r["item_barcode"])
                for r in stored
            ],
        )
        _apply_master(db, new, now)
        by_item: dict[str, list[str]] = {}
        for e in new:
            if e.type in trust.CHECKED_IN_REPLAY and trust.refused(db, e.uuid):
                continue  # listed by _apply_master: it changes nothing
            if e.type in REPLAYED and e.item_barcode:
                by_item.setdefault(e.item_barcode, []).append(e.uuid)
            elif e.type == "corner_lent":  # one loan per book of the box
                for item in _box(e.data):
                    by_item.setdefault(item["barcode"], []).append(e.uuid)
        # The replay reads the batch's events as stored (a kiosk that sent no seq: from the log,
        # where the hub's own seq orders them).
        replay_items(db, by_item, now, {r["uuid"]: r for r in stored if r["kseq"] is not None})
        # After the loans, so a loan marked lost in this batch stays closed.
        project_collection(db, new, now)
        if new:
            _patron_conflicts(db, new, correction, now, load_rules(db))
        db.execute(
            "UPDATE kiosks SET last_contact = ?, clock_offset_s = ?, "
            "events_received = events_received + ? WHERE id = ?",
            [now, offset, len(new), kiosk_id],
        )
    return Receipt(len(new), len(events) - len(new), [e.uuid for e in events], offset, now)


def _stored(e: Event, correction: float) -> dict[str, Any]:
    """Return an event's row as stored, with its effective time, its kiosk's seq, its data read
    and the event its replay projects (this one when no clock correction moved it)."""
    row = e.row()
    eff = row["eff"] = _shift(e.at, correction)
    row["kseq"] = e.seq
    row["parsed"] = e.data
    row["event"] = e if eff == e.at else None
    return row


# An event's row as the values of STORE_EVENT, in its order.
_event_values = itemgetter(
    "uuid", "type", "at", "kiosk_id", "actor", "patron_id", "item_barcode", "data"
)


STORE_EVENT = (
    "INSERT INTO events (uuid, type, at, kiosk_id, actor, patron_id, item_barcode, data) "
    "VALUES {rows}"
)
STORE_RECEIPT = (
    "INSERT INTO received (uuid, kiosk_id, kiosk_seq, received_at, clock_offset_s, "
    "effective_at, item_barcode) VALUES {rows}"
)


def _insert_rows(db: Database, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows with a multi-row VALUES statement, a chunk of 500 a statement: an
    `executemany` runs the statement once a row, about a third more of SQLite's time."""
    for part in _chunks(rows):
        marks = ",".join(["(" + ",".join("?" * len(part[0])) + ")"] * len(part))
        db.conn.execute(sql.format(rows=marks), [v for row in part for v in row])


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


# What a kiosk's desk may change in the master data; the rest stays the hub's to decide. (A
# desk's `item_status` is replayed with the book's loans, in the order things happened.)
# Reading lists and the reading stars' rules are edited at any dashboard: the hub applies a
# kiosk's edit when it receives it, so of two edits the one the hub receives last stands,
# everywhere (docs/sync.md).
READING_LISTS = ("reading_list_saved", "reading_list_title_added", "reading_list_title_removed")
STAR_RULES = ("star_rules_saved",)
# Each such type: the feed's kind that sends its record down, and the data field naming it.
EDITED_ANYWHERE = {
    **{t: ("lists", "list") for t in READING_LISTS},
    **{t: ("stars", "rules") for t in STAR_RULES},
}
MASTER_FROM_KIOSK = ("card_lost", "card_issued", *EDITED_ANYWHERE)


def _apply_master(db: Database, events: list[Event], now: str) -> None:
    """Check each kiosk event against its rule (kiosk/sync/trust.py); apply lost and new cards,
    reading-list edits and star rules.

    The collection's events projected after the loans are checked there instead, in the order
    they happened, so a hold placed earlier in the batch is there when it is made ready.
    """
    for e in sorted(events, key=lambda e: e.at):
        if e.type in CHECKED_LATER:
            continue
        if not trust.allowed(db, e, now):
            if e.type in EDITED_ANYWHERE:
                _resend(db, e)
            continue
        if e.type in MASTER_FROM_KIOSK:  # applied as the hub receives it
            project(db, replace(e, at=now))


def adopt_edits(store: Store, types: tuple[str, ...]) -> None:
    """Apply the edits of these types kiosks sent before the hub applied them, as received."""
    marks = ",".join("?" * len(types))
    now = store.now()
    with store.write() as db:
        rows = fetch(
            db,
            "SELECT e.* FROM events e JOIN received r ON r.uuid = e.uuid "
            f"WHERE e.type IN ({marks}) ORDER BY r.received_at, r.kiosk_seq, e.uuid",
            list(types),
        )
        for row in rows:
            _apply_master(db, [Event.from_row(row)], now)


def _resend(db: Database, e: Event) -> None:
    """Send the hub's copy of an edited list or star rules again (none: the kiosk drops it), so
    that a kiosk whose edit was refused shows the hub's and not its own."""
    kind, field = EDITED_ANYWHERE[e.type]
    key = e.data.get(field) if isinstance(e.data, dict) else None
    if isinstance(key, str) and len(key) <= 200 and not schemas.has_control(key):
        db.execute("INSERT INTO feed (kind, key) VALUES (?, ?)", [kind, key])


def project_collection(db: Database, events: list[Event], now: str) -> None:
    """Project the collection's events (stocktake scans, lost books, holds ...) as the kiosk did.

    They come after the batch's loan events are applied. Those that end or start a loan (a book
    lost or damaged, a class corner) are not here: `replay_item` applies them in the book's
    history with its loan events (docs/collection.md, "At the hub").
    """
    for e in sorted(events, key=lambda e: e.at):
        if e.type in REPLAYED or e.type == "corner_lent":
            continue
        # No savepoint and nothing caught: the schema checked every field the projection reads
        # (kiosk/circulation/schemas.py) and the rule every row it names, in this transaction.
        if e.type in CHECKED_LATER and trust.allowed(db, e, now):
            project(db, e)


def _conflict(
    db: Database, kind: str, row: dict[str, Any], now: str, other: str | None = None, **detail: Any
) -> None:
    hubstore.list_conflict(db, kind, row, row["eff"], now, other, detail)


REPLAY_SQL = (
    "SELECT e.uuid, e.type, e.at, e.kiosk_id, e.actor, e.patron_id, e.item_barcode, e.data, "
    "COALESCE(r.effective_at, e.at) AS eff, COALESCE(r.kiosk_seq, e.seq) AS kseq FROM events e "
    "LEFT JOIN received r ON r.uuid = e.uuid WHERE {where} "
    "ORDER BY eff, kseq, e.uuid"
)
# A book's events replayed in the order they happened: its loans, what ends one (lost,
# damaged), what puts the book back (found, repaired), a desk's status (lost, damaged); a class
# corner's `corner_lent` (one event, many books) starts a loan too. The hub's own withdrawals
# and statuses are replayed with them, so a replayed loss does not hide a later withdrawal (a
# kiosk's is refused: kiosk/sync/trust.py).
INCIDENTS = ("item_lost", "item_damaged", "item_found", "repair_done", "item_status")
REPLAYED = (*LOAN_TYPES, "undo", *INCIDENTS)
ITEM_TYPES = ",".join(f"'{t}'" for t in REPLAYED)
HUB_OWN = "r.uuid IS NULL AND e.type IN ({})".format(
    ",".join(f"'{t}'" for t in (*INCIDENTS, "item_withdrawn"))
)
# The collection's events projected after the loans, each checked just before (trust.py).
CHECKED_LATER = frozenset(COLLECTION_EVENTS) - {*REPLAYED, "corner_lent"}
# A refused undo (kiosk/sync/trust.py) reopens nothing, so it never asks for a full replay.
UNDO_REFUSED = ",".join(f"'{k}'" for k in trust.UNDO_REFUSALS)
CORNER_ROWS = (
    "e.type = 'corner_lent' AND {cond} AND EXISTS (SELECT 1 FROM json_each(e.data, '$.items') "
    "WHERE json_extract(value, '$.barcode') = ?)"
)


# An item's open loan during its replay: (uuid, patron), None, or UNREAD (read it).
Held = tuple[str, str | None] | None | object
UNREAD = object()


class Known:
    """Which of some keys a table has: read for a whole batch at once, one by one only for
    keys the batch did not name (an older event that a replay reads again)."""

    def __init__(self, db: Database, table: str, column: str, keys: Iterable[str]) -> None:
        self.db, self.table, self.column = db, table, column
        self.asked: set[str] = set()
        self.found: set[str] = set()
        self.read(sorted(set(keys)))

    def read(self, keys: list[str]) -> None:
        """Look the keys up, a chunk a statement."""
        for part in _chunks(keys):
            marks = ",".join("?" * len(part))
            sql = f"SELECT {self.column} FROM {self.table} WHERE {self.column} IN ({marks})"
            self.found.update(r[0] for r in self.db.execute(sql, part))
            self.asked.update(part)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str) and key not in self.asked:
            self.read([key])
        return key in self.found


def replay_items(
    db: Database,
    by_item: dict[str, list[str]],
    now: str,
    batch: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Replay each touched item's new events, reading what every item needs for the whole batch.

    The new events (`batch`: those the caller has as stored, by UUID), the items' replay
    positions, which items and patrons the hub knows: each one set read (a chunk of 500 keys a
    statement), not one read per item or event. Where each item's replay stands is written for
    the whole batch at the end, in one statement each (500 rows a statement).
    """
    rows = dict(batch or {})
    missing = sorted({u for uuids in by_item.values() for u in uuids} - rows.keys())
    for part in _chunks(missing):
        marks = ",".join("?" * len(part))
        where = f"e.uuid IN ({marks}) AND e.type IN ({ITEM_TYPES}, 'corner_lent')"
        rows.update((r["uuid"], r) for r in _replay_rows(db, where, part))
    barcodes = sorted(by_item)
    last: dict[str, tuple[str, int, str]] = {}
    for part in _chunks(barcodes):
        marks = ",".join("?" * len(part))
        for barcode, *at in db.execute(
            f"SELECT item_barcode, eff, kiosk_seq, uuid FROM item_replay "
            f"WHERE item_barcode IN ({marks})",
            part,
        ):
            last[barcode] = (at[0], at[1], at[2])
    items = Known(db, "items", "barcode", barcodes)
    patrons = Known(db, "patrons", "id", (r["patron_id"] for r in rows.values() if r["patron_id"]))
    first_seen = _first_seen(db, [b for b in barcodes if b not in last], by_item)
    # Each item's open loan as the batch starts (an item's replay touches only its own loans).
    held: dict[str, Held] = {b: None for b in barcodes}
    for part in _chunks([b for b in barcodes if b not in first_seen]):
        marks = ",".join("?" * len(part))
        for barcode, uuid, patron in db.execute(
            "SELECT item_barcode, uuid, patron_id FROM loans "
            f"WHERE item_barcode IN ({marks}) AND returned_at IS NULL",
            part,
        ):
            held[barcode] = (uuid, patron)
    kept = Marks()
    later: dict[str, list[Event]] = {}
    for barcode in barcodes:
        uuids = by_item[barcode]
        parts = [uuids] if len(uuids) <= CHUNK else list(_chunks(uuids))
        for i, part in enumerate(parts):
            new = [rows[u] for u in part if u in rows]
            if len(new) > 1:
                new.sort(key=_key)
            if barcode in first_seen:
                last[barcode] = FIRST  # nothing before these events: nothing to rewind
            start = held[barcode] if i == 0 else UNREAD
            end = replay_item(
                db,
                barcode,
                new,
                now,
                last.get(barcode),
                (items, patrons),
                kept,
                start,
                later if len(parts) == 1 else None,
            )
            if end is not None:
                last[barcode] = end
            if len(parts) > 1:
                kept.save(db)  # the item's next chunk may rewind to a quiet moment of this one
    project_many(db, _waves(later))
    kept.save(db)


def _waves(later: dict[str, list[Event]]) -> list[Event]:
    """Return the books' events in an order that applies each book's in its order: every
    book's first event, then every book's second, ...; of one type together within each."""
    out: list[Event] = []
    for k in range(max((len(v) for v in later.values()), default=0)):
        out += sorted((v[k] for v in later.values() if len(v) > k), key=lambda e: e.type)
    return out


class Marks:
    """Where each item's replay stands and its quiet moments, kept until the batch writes them."""

    def __init__(self) -> None:
        self.ends: dict[str, tuple[str, int, str]] = {}
        self.quiet: list[tuple[str, str, int, str]] = []

    def save(self, db: Database) -> None:
        """Write what is kept, a multi-row statement each, and start again."""
        _insert_rows(db, SAVE_ENDS, [(barcode, *end) for barcode, end in self.ends.items()])
        _insert_rows(db, SAVE_QUIET, self.quiet)
        self.ends, self.quiet = {}, []


SAVE_ENDS = (
    "INSERT INTO item_replay (item_barcode, eff, kiosk_seq, uuid) VALUES {rows} "
    "ON CONFLICT(item_barcode) DO UPDATE SET eff = excluded.eff, "
    "kiosk_seq = excluded.kiosk_seq, uuid = excluded.uuid"
)
SAVE_QUIET = "INSERT OR IGNORE INTO item_quiet (item_barcode, eff, kiosk_seq, uuid) VALUES {rows}"


# Before any event: the replay position of a book whose first events these are.
FIRST = ("", 0, "")


def _first_seen(db: Database, barcodes: list[str], by_item: dict[str, list[str]]) -> set[str]:
    """Return the books whose only events are this batch's, with no loan, quiet moment or class
    corner: replaying them from their first event is projecting the new ones forward.

    A book on loan by its status, or with more than one chunk of new events, is not among them
    (`_rewind` puts those right as before).
    """
    counts: dict[str, int] = {}
    busy: set[str] = set()
    for part in _chunks(barcodes):
        marks = ",".join("?" * len(part))
        counts.update(
            db.execute(
                f"SELECT item_barcode, count(*) FROM events WHERE item_barcode IN ({marks}) "
                "GROUP BY item_barcode",
                part,
            ).fetchall()
        )
        for sql in (
            f"SELECT DISTINCT item_barcode FROM loans WHERE item_barcode IN ({marks})",
            f"SELECT DISTINCT item_barcode FROM item_quiet WHERE item_barcode IN ({marks})",
            f"SELECT barcode FROM items WHERE barcode IN ({marks}) AND status = 'on_loan'",
        ):
            busy.update(r[0] for r in db.execute(sql, part))
    if barcodes:
        # Books in any class corner's box (few such events: read through a partial index).
        busy.update(
            r[0]
            for r in db.execute(
                "SELECT DISTINCT json_extract(j.value, '$.barcode') FROM events e, "
                "json_each(e.data, '$.items') j WHERE e.type = 'corner_lent'"
            )
        )
    return {
        b
        for b in barcodes
        if b not in busy and len(by_item[b]) <= CHUNK and counts.get(b) == len(by_item[b])
    }


def replay_item(
    db: Database,
    barcode: str,
    rows: list[dict[str, Any]],
    now: str,
    last: tuple[str, int, str] | None,
    known: tuple[Known, Known],
    marks: Marks,
    held: Held = UNREAD,
    later: dict[str, list[Event]] | None = None,
) -> tuple[str, int, str] | None:
    """Apply an item's new loan and incident events in the order they happened (projections).

    `rows` are the new events (in that order), `last` where the item's replay stood; returns
    where it stands now (None: nothing applied), and keeps it in `marks` with the item's quiet
    moments. `held` is the item's open loan before them, when the caller has read it.
    `known`: which of the batch's items and patrons the hub has.

    With `later` given, an item whose new events are all loans, applied forward from a loan
    known here, has them judged now and kept there by book, for the caller to project all
    books' at once (`project_many`): its open loan is followed here, never read back.

    When every new event comes after the last one applied (the usual case), they are projected
    forward from the item's current loan. An event that lands earlier (a kiosk that was offline,
    two kiosks lending the same book between two syncs) replays the item from its last quiet
    moment before that event (no loan open: the state there is known), so neither case costs
    more as the item's history grows. Without such a moment, or with an undo after it (an undo
    may reopen a loan from before it), the item is replayed from its first event.
    """
    if not rows:
        return None
    items, patrons = known
    # The item's open loan (uuid, patron) as the replay goes: read once, then followed.
    if last is None or _key(rows[0]) <= tuple(last):
        rows = _rewind(db, barcode, _key(rows[0]), now)
        held = UNREAD
    if barcode not in items:
        for row in rows:
            _conflict(db, "unknown_item", row, now)
        return None
    sink: Callable[[Database, Event], None] = project
    if later is not None and held is not UNREAD and all(r["type"] in LOAN_TYPES for r in rows):
        sink = lambda db, e: later.setdefault(barcode, []).append(e)  # noqa: E731
    for row in rows:
        held = _apply(db, row, barcode, now, patrons, held, sink)
        if row["type"] == "checkin":  # a return ends whatever loan is open: on the shelf now
            marks.quiet.append((barcode, *_key(row)))
    end = _key(rows[-1])
    marks.ends[barcode] = end
    if rows[-1]["type"] != "checkin" and _held(db, barcode, held) is None:
        marks.quiet.append((barcode, *end))
    return end


def _held(db: Database, barcode: str, held: Held) -> tuple[str, str | None] | None:
    """Return the item's open loan (uuid, patron), reading it only when not followed."""
    if held is UNREAD:
        found = open_loan(db, barcode)
        return None if found is None else (found[0], found[1])
    return held  # type: ignore[return-value]


def _rewind(
    db: Database, barcode: str, first: tuple[str, int, str], now: str
) -> list[dict[str, Any]]:
    """Put the item back as it was at its last quiet moment before `first`; return what follows."""
    quiet = db.execute(
        "SELECT eff, kiosk_seq, uuid FROM item_quiet WHERE item_barcode = ? "
        "AND (eff, kiosk_seq, uuid) < (?, ?, ?) ORDER BY eff DESC, kiosk_seq DESC, uuid DESC "
        "LIMIT 1",
        [barcode, *first],
    ).fetchone()
    undone_since = (
        quiet is not None
        and db.execute(
            "SELECT 1 FROM events e JOIN received r ON r.uuid = e.uuid WHERE e.item_barcode = ? "
            "AND e.type = 'undo' AND r.effective_at >= ? AND NOT EXISTS (SELECT 1 FROM conflicts "
            f"c WHERE c.event_uuid = e.uuid AND c.kind IN ({UNDO_REFUSED})) LIMIT 1",
            [barcode, quiet[0]],
        ).fetchone()
    )
    if quiet is None or undone_since:
        rows = _replay_rows(
            db,
            f"e.item_barcode = ? AND (e.type IN ({ITEM_TYPES}) OR ({HUB_OWN}))",
            [barcode],
        )
        rows = sorted(rows + _corner_rows(db, barcode, "1", []), key=_key)
        forget = [
            r[0] for r in db.execute("SELECT uuid FROM loans WHERE item_barcode = ?", [barcode])
        ]
        db.execute("DELETE FROM item_quiet WHERE item_barcode = ?", [barcode])
    else:
        rows = [
            r
            for r in fetch(
                db,
                "SELECT e.uuid, e.type, e.at, e.kiosk_id, e.actor, e.patron_id, e.item_barcode, "
                "e.data, r.effective_at AS eff, r.kiosk_seq AS kseq FROM received r "
                "JOIN events e ON e.uuid = r.uuid WHERE r.item_barcode = ? "
                f"AND r.effective_at >= ? AND e.type IN ({ITEM_TYPES}) "
                "ORDER BY r.effective_at, r.kiosk_seq, e.uuid",
                [barcode, quiet[0]],
            )
            if _key(r) > tuple(quiet)
        ]
        # The hub's own desk events (a book marked lost at the hub) have no `received` row.
        own = _replay_rows(
            db, f"e.item_barcode = ? AND {HUB_OWN} AND e.at >= ?", [barcode, quiet[0]]
        )
        corner = _corner_rows(db, barcode, "COALESCE(r.effective_at, e.at) >= ?", [quiet[0]])
        rows = sorted(rows + [r for r in own + corner if _key(r) > tuple(quiet)], key=_key)
        after = {_loan_uuid(r, barcode) for r in rows}
        forget = [
            r[0]
            for r in db.execute(
                "SELECT uuid FROM loans WHERE item_barcode = ? AND checked_out_at >= ?",
                [barcode, quiet[0]],
            )
            if r[0] in after
        ]
        db.execute(
            "DELETE FROM item_quiet WHERE item_barcode = ? AND (eff, kiosk_seq, uuid) > (?, ?, ?)",
            [barcode, *quiet],
        )
    for part in _chunks([r["uuid"] for r in rows]):
        marks = ",".join("?" * len(part))
        db.execute(
            f"DELETE FROM conflicts WHERE event_uuid IN ({marks}) "
            f"AND kind IN ({','.join('?' * len(ITEM_CONFLICTS))})",
            [*part, *ITEM_CONFLICTS],
        )
    project(db, Event("loans_replayed", now, "hub", item_barcode=barcode, data={"loans": forget}))
    return rows


def _replay_rows(db: Database, where: str, params: list[Any]) -> list[dict[str, Any]]:
    return fetch(db, REPLAY_SQL.format(where=where), params)


def _corner_rows(db: Database, barcode: str, cond: str, params: list[Any]) -> list[dict[str, Any]]:
    """Return the class-corner loans of a book (few: read through a partial index)."""
    return _replay_rows(db, CORNER_ROWS.format(cond=cond), [*params, barcode])


def _loan_uuid(row: dict[str, Any], barcode: str) -> str:
    """Return the loan an event starts: its own UUID, or the book's in a class corner's box."""
    if row["type"] != "corner_lent":
        return str(row["uuid"])
    return next((str(i.get("loan_uuid")) for i in _box(json.loads(row["data"]), barcode)), "")


def _box(data: Any, barcode: str | None = None) -> list[dict[str, Any]]:
    """Return the books of a class corner's box (only `barcode`'s when given)."""
    items = data.get("items") if isinstance(data, dict) else None
    return [
        i
        for i in (items if isinstance(items, list) else [])
        if isinstance(i, dict)
        and isinstance(i.get("barcode"), str)
        and (barcode is None or i["barcode"] == barcode)
    ]


def _key(row: dict[str, Any]) -> tuple[str, int, str]:
    return (row["eff"], int(row["kseq"] or 0), row["uuid"])


def _event(row: dict[str, Any]) -> Event:
    """Return a replayed row as the event its projection applies, at its effective time."""
    ready = row.get("event")  # a row of this batch carries its event, or its data read
    if ready is not None:
        return ready
    data = row.get("parsed")
    return Event(
        type=row["type"],
        at=row["eff"],
        kiosk_id=row["kiosk_id"],
        actor=row["actor"],
        patron_id=row["patron_id"],
        item_barcode=row["item_barcode"],
        data=json.loads(row["data"]) if data is None else data,
        uuid=row["uuid"],
    )


def _apply(
    db: Database,
    row: dict[str, Any],
    barcode: str,
    now: str,
    patrons: Known,
    held: Held,
    sink: Callable[[Database, Event], None] = project,
) -> Held:
    """Report what a loan event means at this point of the item's history, then project it (a
    loan event: through `sink`); return the item's open loan after it (`held` before it;
    UNREAD when not known)."""
    kind, patron = row["type"], row["patron_id"]
    if kind in trust.CHECKED_IN_REPLAY and trust.refused(db, row["uuid"]):
        return held  # a forged undo, a kiosk's withdrawal (kiosk/sync/trust.py): never applied
    if kind == "corner_lent":  # this book's share of the box, through the one projection
        e = _event(row)
        project(db, replace(e, data={**e.data, "items": _box(e.data, barcode)}))
        return UNREAD
    if kind not in LOAN_TYPES:  # an undo, a book lost or found: the projection decides
        project(db, _event(row))
        return UNREAD
    loan = _held(db, barcode, held)
    if kind == "checkout":
        if patron not in patrons:
            _conflict(db, "unknown_patron", row, now)
            return loan
        if loan is not None and loan[1] == patron:
            _conflict(db, "same_patron", row, now, patron, loan=loan[0])
        elif loan is not None:
            _conflict(db, "transfer", row, now, loan[1], ended=loan[0])
    elif kind == "checkin" and loan is None:
        _conflict(db, "return_not_on_loan", row, now)
    elif kind == "renew" and (loan is None or loan[1] != patron):
        _conflict(db, "renew_not_on_loan", row, now, loan[1] if loan else None)
        return loan
    sink(db, _event(row))
    if kind == "checkout":  # the patron's loan: a new one, or theirs renewed
        return loan if loan is not None and loan[1] == patron else (row["uuid"], patron)
    return None if kind == "checkin" else loan  # a renewal keeps the loan


def _patron_conflicts(
    db: Database, new: list[Event], correction: float, now: str, rules: Rules
) -> None:
    """Report loans over the limit, with a lost card, or by a blocked patron.

    A new loan changes how many books its patron held while it was out, so the patron's loans
    made while it was out are judged again; a card lost or issued, a status or an undo changes
    every later loan of the patron. The event that makes a loan a conflict (a loan at another
    kiosk, a lost card) may arrive after the loan itself; this finds it either way, reading only
    the loans in those windows (by the patron's checkout times), never the patron's history.
    """
    made: dict[str, tuple[str, str | None]] = {}  # the batch's checkouts that made a loan
    for part in _chunks([e.uuid for e in new if e.patron_id and e.type == "checkout"]):
        marks = ",".join("?" * len(part))
        sql = f"SELECT uuid, checked_out_at, returned_at FROM loans WHERE uuid IN ({marks})"
        made.update((r[0], (r[1], r[2])) for r in db.execute(sql, part))
    windows: dict[str, list[tuple[str, str | None]]] = {}
    for e in new:
        if not e.patron_id:
            continue
        if e.type == "checkout":
            if e.uuid in made:  # else a renewal (same patron) or not applied
                windows.setdefault(e.patron_id, []).append(made[e.uuid])
        elif e.type in ("card_lost", "card_issued", "patron_status", "undo"):
            windows.setdefault(e.patron_id, []).append((_shift(e.at, correction), None))
    found: dict[str, Patron] = {}
    cards: dict[str, list[tuple[Any, ...]]] = {}
    for part in _chunks(sorted(windows)):
        marks = ",".join("?" * len(part))
        for row in fetch(db, f"SELECT * FROM patrons WHERE id IN ({marks})", part):
            found[row["id"]] = Patron.from_row(row)
        for row in db.execute(CARD_EVENTS.format(marks=marks), part):
            cards.setdefault(row[0], []).append(tuple(row[1:]))
    spans = [(p, start, end or "9999") for p in sorted(found) for start, end in windows[p]]
    loans: dict[str, dict[str, Any]] = {}
    for part in _chunks(spans, SPANS):
        for loan in fetch(db, LOANS_IN.format(values=_values(part)), _flat(part)):
            loans[loan["uuid"]] = loan
    moments = sorted({(loan["patron_id"], loan["eff"]) for loan in loans.values()})
    held: dict[tuple[str, str], int] = {}
    for part in _chunks(moments, SPANS):
        for patron_id, at, count in db.execute(HELD_AT.format(values=_values(part)), _flat(part)):
            held[(patron_id, at)] = count
    for loan in sorted(loans.values(), key=lambda r: (r["patron_id"], r["eff"], r["uuid"])):
        patron = found[loan["patron_id"]]
        _judge_loan(db, patron, loan, held[(patron.id, loan["eff"])], now, rules, cards)


SPANS = 300  # rows of a VALUES list a statement (SQLite takes up to 32,766 parameters)


def _values(rows: list[tuple[Any, ...]]) -> str:
    return ",".join("(" + ",".join("?" * len(r)) + ")" for r in rows)


def _flat(rows: list[tuple[Any, ...]]) -> list[Any]:
    return [v for r in rows for v in r]


# The card events of some patrons, each patron's in the order they happened.
CARD_EVENTS = (
    "SELECT e.patron_id, COALESCE(r.effective_at, e.at) AS eff, e.type, e.data FROM events e "
    "LEFT JOIN received r ON r.uuid = e.uuid "
    "WHERE e.patron_id IN ({marks}) AND e.type IN ('card_lost', 'card_issued') "
    "ORDER BY e.patron_id, eff"
)
# The loans each patron made in each window (patron, start, end), for many windows at once.
LOANS_IN = (
    "WITH spans(p, lo, hi) AS (VALUES {values}) "
    "SELECT l.uuid, l.item_barcode, l.patron_id, l.checked_out_at AS eff, l.returned_at, "
    "e.kiosk_id FROM spans CROSS JOIN loans l INDEXED BY loans_patron_history "
    "JOIN events e ON e.uuid = l.uuid "
    "WHERE l.patron_id = spans.p AND l.checked_out_at >= spans.lo "
    "AND l.checked_out_at <= spans.hi"
)
# Books a patron held at a moment: the open loans plus those returned after it, for many
# (patron, moment) at once. The planner is told which index to use: by checkout time it would
# read the patron's whole past.
HELD_AT = (
    "WITH moments(p, t) AS (VALUES {values}) "
    "SELECT p, t, (SELECT count(*) FROM loans INDEXED BY loans_open_patron WHERE patron_id = p "
    "AND returned_at IS NULL AND checked_out_at <= t) + (SELECT count(*) FROM loans "
    "INDEXED BY loans_patron_returned WHERE patron_id = p AND returned_at > t "
    "AND checked_out_at <= t) FROM moments"
)


def _judge_loan(
    db: Database,
    patron: Patron,
    loan: dict[str, Any],
    held: int,
    now: str,
    rules: Rules,
    cards: dict[str, list[tuple[Any, ...]]],
) -> None:
    """Report what is wrong with one loan: a blocked patron, over the limit (`held` books at
    that moment), or made after a card of theirs was reported lost (`cards`: (eff, type, data)
    of each patron's card events, in order)."""
    eff = loan["eff"]
    found: dict[str, dict[str, Any]] = {}
    if patron.status != "active":
        found["patron_blocked"] = {"status": patron.status}
    limit = rules.limits(patron).max_loans
    if held > limit:
        found["over_limit"] = {"count": held, "limit": limit}
    before = [c for c in cards.get(patron.id, []) if c[0] < eff]
    if before and before[-1][1] == "card_lost":
        found["lost_card"] = {"card": json.loads(before[-1][2]).get("card")}
    for kind, detail in found.items():
        _conflict(db, kind, loan, now, **detail)
