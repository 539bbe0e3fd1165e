"""The hub's store: the kiosk schema plus kiosks, receipts, conflicts and the change feed.

The hub opens its database through the same `Store` as a kiosk, then applies its own migration
set ("hub"). Triggers on the master data and loan tables write every change into `feed`, so a
change made by any path (CSV import, the dashboard, an event from a kiosk) reaches every kiosk.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import uuid as uuidlib
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

from kiosk.circulation.store import Store

migrations = Migrations("hub")

# The hub's writer keeps up to this much of the database in memory (SQLite's default is 2 MB): a
# batch touches books, loans and index pages all over a large catalogue, and each page read
# again from the file costs CPU (docs/performance.md: "a larger page cache").
CACHE_KIB = 64 * 1024

# table -> (feed kind, key column)
FEED_SOURCES = {
    "patrons": ("patron", "id"),
    "cards": ("card", "code"),
    "items": ("item", "barcode"),
    "loans": ("loan", "item_barcode"),
    "rules": ("rules", "''"),
    "policy": ("rules", "''"),
    "closed_days": ("rules", "''"),
}


# Added by h004: a reading list is sent whole, its fields and its titles, when either changes.
# The feed's kind is "lists", not "reading_list", for the reason given for "stars" below.
LIST_SOURCES = {
    "reading_lists": ("lists", "id"),
    "reading_list_titles": ("lists", "list_id"),
}
# Added by h005: a reading stars' period and its rules, sent as their row.
# The feed's kind is "stars", not "star_rules": a kiosk from before takes an unknown kind's
# row as "<kind>_saved" and skips it, but "star_rules_saved" would be misread as its own save.
STAR_SOURCES = {"star_rules": ("stars", "id")}


def _feed_triggers(sources: dict[str, tuple[str, str]] = FEED_SOURCES) -> str:
    sql = []
    for table, (kind, key) in sources.items():
        for op, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            value = key if key == "''" else f"{row}.{key}"
            sql.append(
                f"CREATE TRIGGER feed_{table}_{op.lower()} AFTER {op} ON {table} "
                f"BEGIN INSERT INTO feed (kind, key) VALUES ('{kind}', {value}); END;"
            )
    return "\n".join(sql)


@migrations(name="h001_hub")
def h001_hub(db: Database) -> None:
    """Create kiosks, receipts, conflicts, the change feed and the hub's facts."""
    db.executescript(
        """
        CREATE TABLE kiosks (
            id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            registered_at TEXT NOT NULL,
            revoked_at TEXT,
            last_contact TEXT,
            clock_offset_s REAL,
            events_received INTEGER NOT NULL DEFAULT 0
        );
        -- When and from whom the hub received each kiosk event; the event itself is in events.
        CREATE TABLE received (
            uuid TEXT PRIMARY KEY REFERENCES events(uuid),
            kiosk_id TEXT NOT NULL,
            kiosk_seq INTEGER,
            received_at TEXT NOT NULL,
            clock_offset_s REAL NOT NULL,
            effective_at TEXT NOT NULL
        );
        CREATE TABLE conflicts (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            event_uuid TEXT NOT NULL,
            item_barcode TEXT,
            patron_id TEXT,
            other_patron_id TEXT,
            kiosk_id TEXT NOT NULL,
            at TEXT NOT NULL,
            detected_at TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}',
            UNIQUE (event_uuid, kind)
        );
        CREATE INDEX conflicts_item ON conflicts(item_barcode);
        CREATE TABLE feed (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            key TEXT NOT NULL
        );
        CREATE TABLE hub_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE INDEX events_item ON events(item_barcode);
        CREATE INDEX events_patron ON events(patron_id);
        CREATE INDEX loans_item ON loans(item_barcode);
        CREATE INDEX loans_patron ON loans(patron_id);
        CREATE INDEX conflicts_patron ON conflicts(patron_id);
        """
        + _feed_triggers()
    )
    db.execute(
        "INSERT INTO hub_meta (key, value) VALUES ('epoch', ?), ('feed_floor', '0')",
        [str(uuidlib.uuid4())],
    )


@migrations(name="h002_item_replay")
def h002_item_replay(db: Database) -> None:
    """Remember where each item's replay stands, and index what one event can touch.

    With these, a batch costs the same on a hub with years of history as on a new one: an item
    whose new events come after everything it already has is projected forward from its current
    loan, and the patron checks read only open and recently returned loans.
    """
    db.executescript(
        """
        CREATE TABLE item_replay (
            item_barcode TEXT PRIMARY KEY,
            eff TEXT NOT NULL,
            kiosk_seq INTEGER NOT NULL,
            uuid TEXT NOT NULL
        );
        -- Moments an item had no open loan, from which a late event replays it.
        CREATE TABLE item_quiet (
            item_barcode TEXT NOT NULL,
            eff TEXT NOT NULL,
            kiosk_seq INTEGER NOT NULL,
            uuid TEXT NOT NULL,
            PRIMARY KEY (item_barcode, eff, kiosk_seq, uuid)
        ) WITHOUT ROWID;
        ALTER TABLE received ADD COLUMN item_barcode TEXT;
        UPDATE received SET item_barcode =
            (SELECT item_barcode FROM events WHERE events.uuid = received.uuid);
        CREATE INDEX received_item ON received(item_barcode, effective_at);
        CREATE INDEX loans_item_checked_out ON loans(item_barcode, checked_out_at);
        CREATE INDEX loans_patron_returned ON loans(patron_id, returned_at);
        CREATE INDEX loans_patron_checked_out ON loans(patron_id, checked_out_at);
        CREATE INDEX loans_item_returned ON loans(item_barcode, returned_at);
        CREATE INDEX events_patron_type ON events(patron_id, type);
        CREATE INDEX events_item_type ON events(item_barcode, type);
        """
    )


@migrations(name="h003_corner_replay")
def h003_corner_replay(db: Database) -> None:
    """Find a book's class-corner loans for its replay without reading every event."""
    db.execute("CREATE INDEX events_corner ON events(type) WHERE type = 'corner_lent'")


@migrations(name="h004_reading_sync")
def h004_reading_sync(db: Database) -> None:
    """Send reading lists to the kiosks like the other master data (and those there are now)."""
    db.executescript(_feed_triggers(LIST_SOURCES))
    db.execute("INSERT INTO feed (kind, key) SELECT 'lists', id FROM reading_lists")


@migrations(name="h005_star_sync")
def h005_star_sync(db: Database) -> None:
    """Send the reading stars' rules to the kiosks like the lists (and those there are now)."""
    db.executescript(_feed_triggers(STAR_SOURCES))
    db.execute("INSERT INTO feed (kind, key) SELECT 'stars', id FROM star_rules")


@migrations(name="h006_loan_indexes")
def h006_loan_indexes(db: Database) -> None:
    """Drop the hub's loan indexes that another one covers (every loan written updates each).

    `loans_item` and `loans_patron` are the first column of (item, checked out) and (patron,
    history); `loans_patron_checked_out` is the kiosk's `loans_patron_history` again.
    """
    db.executescript(
        "DROP INDEX loans_item; DROP INDEX loans_patron; DROP INDEX loans_patron_checked_out;"
    )


@migrations(name="h007_prefix_indexes")
def h007_prefix_indexes(db: Database) -> None:
    """Drop the indexes that are the first column of another (each event or loan updates each).

    `events_item` and `events_patron` are the first column of (item, type) and (patron, type);
    the kiosk's `loans_checked_out` is the first column of its `loans_period`. A lookup by that
    column alone reads the longer index the same way.
    """
    db.executescript(
        "DROP INDEX events_item; DROP INDEX events_patron; DROP INDEX IF EXISTS loans_checked_out;"
    )


# Edits that a hub from before a migration kept only for the record, applied once after it.
ADOPTED = {
    "h004_reading_sync": (
        "reading_list_saved",
        "reading_list_title_added",
        "reading_list_title_removed",
    ),
    "h005_star_sync": ("star_rules_saved",),
}


def open_hub_store(path: Path | str, hub_id: str = "hub", **kw: Any) -> Store:
    """Open the hub's store: the kiosk schema, then the hub's own migrations."""
    store = Store.open(path, kiosk_id=hub_id, **kw)
    store.db.conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    pending = [m.name for m in migrations.pending(store.db)]
    if pending:
        with store._write_lock:
            migrations.apply(store.db)
    adopted = tuple(t for name, types in ADOPTED.items() if name in pending for t in types)
    if adopted and "h001_hub" not in pending:
        # A hub from before lists (or star rules) were synced kept the kiosks' edits only for
        # the record: apply them once, all in the order received.
        from kiosk.sync.reconcile import adopt_edits

        adopt_edits(store, adopted)
    return store


def used_by_a_kiosk(path: Path) -> bool:
    """Return whether a store file is a kiosk's own, in use: no hub tables, events of its own.

    Read-only, so that a hub command given a kiosk's config (`kiosk hub register` on the Pi,
    without `--config /etc/kiosk/hub.toml`) can refuse before the hub's migrations and change
    feed triggers are put into the kiosk's store. A store `kiosk init` only made (its default
    rules, nothing else) may still become a hub.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        sets = {r[0] for r in conn.execute("SELECT DISTINCT migration_set FROM _sqlite_migrations")}
        if "hub" in sets or "kiosk" not in sets:
            return False
        return (
            conn.execute("SELECT 1 FROM events WHERE type <> 'rules_set' LIMIT 1").fetchone()
            is not None
        )
    except sqlite3.Error:
        return False  # not a store at all: opening it says what is wrong with it
    finally:
        conn.close()


def is_hub_store(store: Store) -> bool:
    """Return whether a store carries the hub's tables."""
    return bool(migrations.applied(store.db))


def meta(store: Store, key: str) -> str:
    """Return one of the hub's facts (epoch, feed_floor)."""
    return str(store.value("SELECT value FROM hub_meta WHERE key = ?", [key]))


# -- kiosks and their tokens ---------------------------------------------------------------


def hash_token(token: str) -> str:
    """Return the stored form of a token: tokens are long and random, so SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


def register_kiosk(store: Store, kiosk_id: str) -> str:
    """Give a kiosk a new token (replacing any old one) and return it; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    with store.write() as db:
        db.execute(
            "INSERT INTO kiosks (id, token_hash, registered_at) VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET token_hash = excluded.token_hash, "
            "registered_at = excluded.registered_at, revoked_at = NULL",
            [kiosk_id, hash_token(token), store.now()],
        )
    return token


def revoke_kiosk(store: Store, kiosk_id: str) -> bool:
    """Revoke a kiosk's token; return False if there is no such kiosk."""
    with store.write() as db:
        cur = db.execute(
            "UPDATE kiosks SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [store.now(), kiosk_id],
        )
        return cur.rowcount > 0


def kiosk_of_token(store: Store, token: str) -> tuple[str | None, str]:
    """Return (kiosk id, '') for a valid token, else (None, 'unknown' or 'revoked')."""
    wanted = hash_token(token)
    rows = store.query(
        "SELECT id, token_hash, revoked_at FROM kiosks WHERE token_hash = ?", [wanted]
    )
    if not rows or not hmac.compare_digest(rows[0]["token_hash"], wanted):
        return None, "unknown"
    if rows[0]["revoked_at"]:
        return None, "revoked"
    return rows[0]["id"], ""


def kiosks(store: Store) -> list[dict[str, Any]]:
    """Return every registered kiosk with its last contact and clock offset."""
    return store.query(
        "SELECT id, registered_at, revoked_at, last_contact, clock_offset_s, events_received "
        "FROM kiosks ORDER BY id"
    )


def conflicts(store: Store) -> list[dict[str, Any]]:
    """Return the conflict list for the librarian, newest first."""
    rows = store.query(
        "SELECT c.*, i.title, p.name AS patron_name, o.name AS other_name FROM conflicts c "
        "LEFT JOIN items i ON i.barcode = c.item_barcode "
        "LEFT JOIN patrons p ON p.id = c.patron_id LEFT JOIN patrons o ON o.id = c.other_patron_id "
        "ORDER BY c.at DESC, c.id DESC"
    )
    for r in rows:
        # A page shows what it can: a detail that is not a JSON object is shown as none.
        try:
            detail = json.loads(r["detail"])
        except ValueError:
            detail = {}
        r["detail"] = detail if isinstance(detail, dict) else {}
    return rows


def list_conflict(
    db: Database,
    kind: str,
    event: dict[str, Any],
    at: str,
    now: str,
    other: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """List what the hub found wrong with a kiosk event, once per event and kind.

    `event` carries the event's uuid, item_barcode, patron_id and kiosk_id (an event's row or a
    loan read with its event); `at` is when it happened by the hub's reckoning.
    """
    db.execute(
        "INSERT INTO conflicts (kind, event_uuid, item_barcode, patron_id, other_patron_id, "
        "kiosk_id, at, detected_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(event_uuid, kind) DO NOTHING",
        [
            kind,
            event["uuid"],
            event["item_barcode"],
            event["patron_id"],
            other,
            event["kiosk_id"],
            at,
            now,
            json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        ],
    )


# -- the feed and the snapshot -----------------------------------------------------------


def feed_cursor(store: Store) -> int:
    """Return the newest feed position (never below what was pruned)."""
    return _newest(store.reader)


def _newest(db: Database) -> int:
    row = db.execute(
        "SELECT max(COALESCE((SELECT MAX(seq) FROM feed), 0), "
        "(SELECT CAST(value AS INTEGER) FROM hub_meta WHERE key = 'feed_floor'))"
    ).fetchone()
    return int(row[0])


def rules_content(db: Database) -> dict[str, Any]:
    """Return the rules (item types included), policy and closed days as one value."""
    return {
        "with_item_types": True,  # the kiosk's copy of the item types is replaced too
        "rules": list(db.query("SELECT * FROM rules ORDER BY scope")),
        "policy": {r["key"]: json.loads(r["value"]) for r in db.query("SELECT * FROM policy")},
        "closed_days": [r["day"] for r in db.query("SELECT day FROM closed_days ORDER BY day")],
    }


LIST_FIELDS = "id, name, grade, term, target, saved_at"
LIST_TITLES = (
    "SELECT title_key, title, author, isbn, added_at FROM reading_list_titles "
    "WHERE list_id = ? ORDER BY added_at, rowid"
)


def list_content(db: Database, row: dict[str, Any]) -> dict[str, Any]:
    """Return a reading list as a kiosk gets it: its fields and its titles in order."""
    return {**row, "titles": list(db.query(LIST_TITLES, [row["id"]]))}


STAR_FIELDS = "id, name, first_day, last_day, min_books, min_list, top, saved_at"
CONTENT_SQL = {
    "patron": "SELECT id, name, role, grade, class_name, status FROM patrons WHERE id = ?",
    "card": "SELECT code, patron_id, status FROM cards WHERE code = ?",
    "item": "SELECT barcode, title, author, isbn, call_number, location, status, item_type "
    "FROM items WHERE barcode = ?",
    "loan": "SELECT uuid, item_barcode, patron_id, checked_out_at, due_at, renewals "
    "FROM loans WHERE item_barcode = ? AND returned_at IS NULL",
    "stars": f"SELECT {STAR_FIELDS} FROM star_rules WHERE id = ?",
}


def changes(store: Store, cursor: int, limit: int) -> dict[str, Any]:
    """Return the current content of everything changed after `cursor`, at most `limit` entries."""
    db = store.reader
    newest = _newest(db)
    row = db.execute(
        "SELECT seq FROM feed WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?", [cursor, limit - 1]
    ).fetchone()
    upto = int(row[0]) if row else newest
    out = []
    for kind, key in db.execute(
        "SELECT kind, key FROM feed WHERE seq > ? AND seq <= ? GROUP BY kind, key "
        "ORDER BY MAX(seq)",
        [cursor, upto],
    ).fetchall():
        if kind == "rules":
            content: Any = rules_content(db)
        elif kind == "lists":
            rows = list(db.query(f"SELECT {LIST_FIELDS} FROM reading_lists WHERE id = ?", [key]))
            content = list_content(db, rows[0]) if rows else None
        else:
            rows = list(db.query(CONTENT_SQL[kind], [key]))
            content = rows[0] if rows else None
        out.append({"kind": kind, "key": key, "row": content})
    return {"cursor": upto, "more": upto < newest, "changes": out}


SNAPSHOT_SQL = {
    "patrons": ("id", "SELECT id, name, role, grade, class_name, status FROM patrons"),
    "cards": ("code", "SELECT code, patron_id, status FROM cards"),
    "items": (
        "barcode",
        "SELECT barcode, title, author, isbn, call_number, location, status, item_type FROM items",
    ),
    "reading_lists": ("id", f"SELECT {LIST_FIELDS} FROM reading_lists"),
    "star_rules": ("id", f"SELECT {STAR_FIELDS} FROM star_rules"),
    "loans": (
        "uuid",
        "SELECT uuid, item_barcode, patron_id, checked_out_at, due_at, renewals "
        "FROM loans WHERE returned_at IS NULL",
    ),
}


def snapshot_page(store: Store, part: str, after: str, limit: int) -> dict[str, Any]:
    """Return one page of a snapshot part, ordered by its key, after the key `after`."""
    db = store.reader
    if part == "rules":
        return {"rows": [rules_content(db)], "next": None}
    key, sql = SNAPSHOT_SQL[part]
    joiner = " AND " if " WHERE " in sql else " WHERE "
    rows = list(db.query(f"{sql}{joiner}{key} > ? ORDER BY {key} LIMIT ?", [after, limit]))
    if part == "reading_lists":
        rows = [list_content(db, r) for r in rows]
    return {"rows": rows, "next": rows[-1][key] if len(rows) == limit else None}


def prune_feed(store: Store, keep: int) -> int:
    """Drop all but the newest `keep` feed entries; kiosks behind that then get a snapshot."""
    with store.write() as db:
        floor = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM feed").fetchone()[0]) - keep
        if floor <= 0:
            return 0
        cur = db.execute("DELETE FROM feed WHERE seq <= ?", [floor])
        db.execute("UPDATE hub_meta SET value = ? WHERE key = 'feed_floor'", [str(floor)])
        return cur.rowcount
