"""The outbox: which events wait for the hub. One definition, used by sync, status and reports.

An event waits until `event_acks` has its seq (events the hub refused for good, "held back",
still wait: they are counted here and shown apart by the sync state). Every event up to the
`acked_through` watermark is acknowledged, so these queries look only above it and cost what
the backlog costs, not what years of history cost. A kiosk with no hub has no sync state: all
its events wait.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.store import fetch

WAITING = (
    "FROM events WHERE seq > :mark AND NOT EXISTS "
    "(SELECT 1 FROM event_acks a WHERE a.seq = events.seq)"
)


def _state(db: Database, key: str) -> str | None:
    try:
        row = db.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
    except Exception as e:  # no sync_state table: a kiosk that never had a hub
        if "no such table" in str(e):
            return None
        raise
    return None if row is None else str(row[0])


def acked_through(db: Database) -> int:
    """Return the seq up to which every event is acknowledged."""
    return int(_state(db, "acked_through") or 0)


def held_seqs(db: Database) -> list[int]:
    """Return the seqs of events the hub refused as malformed: kept, waiting, not sent again."""
    return [int(s) for s in json.loads(_state(db, "held") or "[]")]


def events_waiting(db: Database) -> int:
    """Return how many events wait for the hub (held-back ones included)."""
    mark = acked_through(db)
    newest = db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
    # Events are never deleted and AUTOINCREMENT leaves no gaps, so the events above the mark
    # are newest - mark; the acks above it are read by primary key.
    acked = db.execute("SELECT count(*) FROM event_acks WHERE seq > ?", [mark]).fetchone()[0]
    return max(0, int(newest) - mark - int(acked))


def waiting_to_send(db: Database, limit: int) -> list[dict[str, Any]]:
    """Return the oldest waiting events, except those held back, as events rows."""
    return fetch(
        db,
        f"SELECT * {WAITING} AND seq NOT IN (SELECT value FROM json_each(:held)) "
        "ORDER BY seq LIMIT :limit",
        {"mark": acked_through(db), "limit": limit, "held": json.dumps(held_seqs(db))},
    )


# An event as a kiosk sends it (kiosk/sync/protocol.py, `event_to_wire`), written by SQLite: the
# stored data is JSON already, so it goes out without being read into Python and written again.
WIRE = (
    "CASE WHEN json_valid(data) THEN json_object('uuid', uuid, 'seq', seq, 'type', type, "
    "'at', at, 'kiosk_id', kiosk_id, 'actor', actor, 'patron_id', patron_id, "
    "'item_barcode', item_barcode, 'data', json(data)) END"
)


def waiting_on_the_wire(db: Database, limit: int) -> list[tuple[int, str, str, str | None]]:
    """Return the oldest waiting events, except those held back, as (seq, uuid, type, the JSON
    object sent; None for data SQLite does not read as JSON, such as a NaN)."""
    return db.execute(
        f"SELECT seq, uuid, type, {WIRE} {WAITING} "
        "AND seq NOT IN (SELECT value FROM json_each(:held)) ORDER BY seq LIMIT :limit",
        {"mark": acked_through(db), "limit": limit, "held": json.dumps(held_seqs(db))},
    ).fetchall()


def event_row(db: Database, seq: int) -> dict[str, Any]:
    """Return one event's row by its seq."""
    return fetch(db, "SELECT * FROM events WHERE seq = ?", [seq])[0]


def first_waiting_seq(db: Database) -> int | None:
    """Return the seq of the oldest waiting event, or None when nothing waits."""
    row = db.execute(f"SELECT MIN(seq) {WAITING}", {"mark": acked_through(db)}).fetchone()
    return None if row[0] is None else int(row[0])


def items_waiting(db: Database) -> set[str]:
    """Return the barcodes of items with events still waiting for the hub."""
    return {
        r[0]
        for r in db.execute(
            f"SELECT DISTINCT item_barcode {WAITING} AND item_barcode IS NOT NULL",
            {"mark": acked_through(db)},
        )
    }


def lists_waiting(db: Database) -> set[str]:
    """Return the reading lists with edits still waiting for the hub."""
    return edits_waiting(
        db, "list", ("reading_list_saved", "reading_list_title_added", "reading_list_title_removed")
    )


def star_rules_waiting(db: Database) -> set[str]:
    """Return the reading stars' rules with a save still waiting for the hub."""
    return edits_waiting(db, "rules", ("star_rules_saved",))


def edits_waiting(db: Database, field: str, types: tuple[str, ...]) -> set[str]:
    """Return the records (named by `data.<field>`) with edits of these types still waiting."""
    marks = ", ".join(f":t{n}" for n in range(len(types)))
    return {
        str(r[0])
        for r in db.execute(
            f"SELECT DISTINCT json_extract(data, '$.{field}') {WAITING} AND type IN ({marks})",
            {"mark": acked_through(db), **{f"t{n}": t for n, t in enumerate(types)}},
        )
        if r[0] is not None
    }
